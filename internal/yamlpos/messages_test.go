package yamlpos

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMessages(t *testing.T) {
	f := func(msg string, want ...Message) {
		t.Helper()
		require.Equal(t, want, Messages(msg), msg)
	}
	f("yaml: line 3: mapping values are not allowed in this context",
		Message{Line: 3, Msg: "mapping values are not allowed in this context"})
	f("yaml: line 3:7: did not find expected key",
		Message{Line: 3, Column: 7, Msg: "did not find expected key"})
	f("line 12, column 4: unknown field",
		Message{Line: 12, Column: 4, Msg: "unknown field"})
	f("yaml: unmarshal errors:\n  line 2: field foo not found in type T\n  line 9: cannot unmarshal !!str `x` into int\n",
		Message{Line: 2, Msg: "field foo not found in type T"},
		Message{Line: 9, Msg: "cannot unmarshal !!str `x` into int"})
	f("yaml: control characters are not allowed", Message{Msg: "yaml: control characters are not allowed"})
	f("  3:5: group name must not be empty ", Message{Msg: "3:5: group name must not be empty"})
	f("online 3: not a position", Message{Msg: "online 3: not a position"})
}

func TestMessageIn(t *testing.T) {
	require.Equal(t, "a.yml:3:7: bad", Message{Line: 3, Column: 7, Msg: "bad"}.In("a.yml"))
	require.Equal(t, "a.yml:3: bad", Message{Line: 3, Msg: "bad"}.In("a.yml"))
	require.Equal(t, "a.yml: bad", Message{Msg: "bad"}.In("a.yml"))
}
