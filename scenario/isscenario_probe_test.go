package scenario

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestMayHaveObjectsKey checks the text probe never says no to a file
// whose parse has an objects key.
func TestMayHaveObjectsKey(t *testing.T) {
	for _, tc := range []struct {
		text string
		may  bool
	}{
		{"objects: []\n", true},
		{"objects:\n", true},
		{"\"objects\" : []", true},
		{"'objects':", true},
		{"{objects}", true},
		{"{ objects , a: 1 }", true},
		{"? objects\n: 1\n", true},
		{"a: &k objects\n*k : 1\n", true},
		{"\"obj\\x65cts\": 1", true},
		{"\"obj\\u0065cts\": 1", true},
		{"\"obj\\\n  ects\": 1", true},
		{"? |\n  objects\n: 1\n", true},
		{"tests:\n  - name: \"fleet of 1000 objects over 1d\"\n    series: \"m{a=\\\"b\\\"}\"\n", false},
		{"rule_files: [a.yml]\n", false},
		{"", false},
	} {
		require.Equal(t, tc.may, mayHaveObjectsKey([]byte(tc.text)), "%q", tc.text)
		var probe map[string]any
		if yaml.Unmarshal([]byte(tc.text), &probe) == nil {
			if _, ok := probe["objects"]; ok {
				require.True(t, mayHaveObjectsKey([]byte(tc.text)), "%q has the key", tc.text)
			}
		}
	}
}
