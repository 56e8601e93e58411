package yamlpos

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       Message // zero: no problem
	}{
		{"plain", "groups:\n  - name: a\n", Message{}},
		{"multiplication is no alias", "expr: a *b\nx: 2 * 3\n", Message{}},
		{"alias after its anchor", "a: &x 1\nb: *x\n", Message{}},
		{"unicode and a BOM", "\ufeffa: \"é ✓ 🙂\"\n", Message{}},
		{"tab and CRLF", "a:\t1\r\nb: 2\r\n", Message{}},
		{"YAML 1.1", "%YAML 1.1\n---\na: 1\n", Message{}},
		{"invalid UTF-8", "a: 1\nb: é\xff\n", Message{Line: 2, Column: 5, Msg: "invalid UTF-8: byte 0xff (YAML files are UTF-8 text)"}},
		{"truncated UTF-8", "a: \xc3", Message{Line: 1, Column: 4, Msg: "invalid UTF-8: byte 0xc3 (YAML files are UTF-8 text)"}},
		{"NUL", "a: 1\nb: x\x00y\n", Message{Line: 2, Column: 5, Msg: "character U+0000 is not allowed in YAML (a control character or NUL byte)"}},
		{"control", "\x1b[31m", Message{Line: 1, Column: 1, Msg: "character U+001B is not allowed in YAML (a control character or NUL byte)"}},
		{"DEL", "a: \x7f", Message{Line: 1, Column: 4, Msg: "character U+007F is not allowed in YAML (a control character or NUL byte)"}},
		{"YAML 2.0", "%YAML 2.0\n---\na: 1\n", Message{Line: 1, Column: 1, Msg: "%YAML 2.0: unsupported YAML version (only %YAML 1.1, or no directive, is read)"}},
		{"YAML 1.2", "# c\n%YAML 1.2\n---\na: 1\n", Message{Line: 2, Column: 1, Msg: "%YAML 1.2: unsupported YAML version (only %YAML 1.1, or no directive, is read)"}},
		{"undefined alias", "a: 1\nb: [1, *nope]\n", Message{Line: 2, Column: 8, Msg: "alias *nope: no anchor &nope defined before it"}},
		{"alias before anchor", "b: *a\na: &a {c: 1}\n", Message{Line: 1, Column: 4, Msg: "alias *a: no anchor &a defined before it"}},
		{"NUL past the first document", "a: 1\n---\nb: \x00\n", Message{Line: 3, Column: 4, Msg: "character U+0000 is not allowed in YAML (a control character or NUL byte)"}},
		{"NUL after a syntax error", "a: [\nb: \x00\n", Message{Line: 2, Column: 4, Msg: "character U+0000 is not allowed in YAML (a control character or NUL byte)"}},
		{"a syntax error the decoder places", "a: [\n%YAML 2.0\n", Message{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := CheckText([]byte(tc.text))
			require.Equal(t, tc.want != Message{}, ok, "%+v", m)
			require.Equal(t, tc.want, m)
			// What CheckText finds, the decoder refuses; what it passes,
			// the decoder reads.
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.text), &n)
			if ok {
				require.Error(t, err)
			} else if tc.name != "a syntax error the decoder places" {
				require.NoError(t, err)
			}
		})
	}
}
