package scenario_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/verify"
)

const schemaFile = "../docs/scenario.schema.json"

// loadSchema compiles docs/scenario.schema.json; it returns the raw
// document too.
func loadSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	f, err := os.Open(schemaFile)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://github.com/gotk-rules/gotk-rules/docs/scenario.schema.json"
	require.NoError(t, c.AddResource(url, doc))
	sch, err := c.Compile(url)
	require.NoError(t, err)
	return sch, doc.(map[string]any)
}

// yamlToJSON converts a YAML document to the JSON value a schema validates.
func yamlToJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(b, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	require.NoError(t, err)
	return out
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, m, pattern)
	return m
}

// TestSchemaAcceptsValid: every shipped scenario and every valid test
// scenario passes the schema, and gotk-rules loads it.
func TestSchemaAcceptsValid(t *testing.T) {
	sch, _ := loadSchema(t)
	files := append(glob(t, "../testdata/series/*.scenario.yml"), glob(t, "testdata/schema/valid/*.yml")...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			require.NoError(t, sch.Validate(yamlToJSON(t, b)))
			_, err = scenario.Parse(f, b, scenario.Limits{})
			require.NoError(t, err)
		})
	}
}

// TestSchemaRejectsInvalid: each invalid test scenario fails the schema,
// and gotk-rules refuses it too, with a position.
func TestSchemaRejectsInvalid(t *testing.T) {
	sch, _ := loadSchema(t)
	for _, f := range glob(t, "testdata/schema/invalid/*.yml") {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			verr := sch.Validate(yamlToJSON(t, b))
			require.Error(t, verr, "the schema accepts it")
			t.Logf("schema: %v", verr)
			_, err = scenario.Parse(f, b, scenario.Limits{})
			require.Error(t, err, "gotk-rules accepts it")
			require.Regexp(t, `^`+regexpQuote(f)+`:\d+(:\d+)?: `, err.Error())
		})
	}
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(".", `\.`, "/", `/`, "-", `\-`)
	return r.Replace(s)
}

// TestSchemaAcceptsVerifyLives: what verify writes (its random lives, as
// counterexamples are written) passes the schema.
func TestSchemaAcceptsVerifyLives(t *testing.T) {
	sch, _ := loadSchema(t)
	opts := verify.Options{Duration: 2 * time.Hour, SecondTargets: true}
	for run := 0; run < 25; run++ {
		sc := verify.Life(7, run, opts)
		b, err := yaml.Marshal(sc)
		require.NoError(t, err)
		require.NoError(t, sch.Validate(yamlToJSON(t, b)), "run %d:\n%s", run, b)
	}
}

// TestSchemaMatchesStructs: the schema's properties are the Go structs'
// YAML fields, and its enums are the eras, scrapes and kinds gotk-rules knows.
func TestSchemaMatchesStructs(t *testing.T) {
	_, doc := loadSchema(t)
	defs := doc["$defs"].(map[string]any)
	props := func(m map[string]any) []string {
		var out []string
		for k := range m["properties"].(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	fields := func(v any) []string {
		var out []string
		ty := reflect.TypeOf(v)
		for i := 0; i < ty.NumField(); i++ {
			tag := strings.Split(ty.Field(i).Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				out = append(out, tag)
			}
		}
		sort.Strings(out)
		return out
	}
	root := doc
	require.Equal(t, fields(scenario.Scenario{}), props(root))
	require.Equal(t, fields(scenario.ScenarioOptions{}), props(root["properties"].(map[string]any)["options"].(map[string]any)))
	require.Equal(t, fields(scenario.Object{}), props(defs["object"].(map[string]any)))
	require.Equal(t, fields(scenario.Event{}), props(defs["event"].(map[string]any)))
	require.Equal(t, fields(scenario.ClusterEvent{}), props(defs["clusterEvent"].(map[string]any)))
	require.Equal(t, fields(scenario.Expectation{}), props(defs["expectation"].(map[string]any)))
	for _, m := range []map[string]any{root, defs["object"].(map[string]any), defs["event"].(map[string]any),
		defs["clusterEvent"].(map[string]any), defs["expectation"].(map[string]any),
		root["properties"].(map[string]any)["options"].(map[string]any)} {
		require.Equal(t, false, m["additionalProperties"])
	}

	enum := func(m any) []string {
		var out []string
		for _, v := range m.(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	rootProps := root["properties"].(map[string]any)
	var eras, scrapes []string
	for _, e := range scenario.Eras {
		eras = append(eras, string(e))
	}
	for _, s := range scenario.Scrapes {
		scrapes = append(scrapes, string(s))
	}
	require.Equal(t, eras, enum(rootProps["era"]))
	require.Equal(t, scrapes, enum(rootProps["scrape"]))
	require.Equal(t, scenario.Kinds(), enum(defs["object"].(map[string]any)["properties"].(map[string]any)["kind"]))
	require.Equal(t, []string{"True", "False", "Unknown"}, enum(defs["event"].(map[string]any)["properties"].(map[string]any)["reconcile"]))
	exp := defs["expectation"].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, []string{"inactive", "pending", "firing"}, enum(exp["state"]))
	require.Equal(t, []string{"pending", "firing"}, enum(exp["never"]))
	// Defaults documented in the schema are the package's.
	require.Equal(t, scenario.DefaultScrapeInterval.String(), durationDefault(t, rootProps["scrape_interval"]))
	require.Equal(t, scenario.DefaultEvaluationInterval.String(), durationDefault(t, rootProps["evaluation_interval"]))
	require.Equal(t, scenario.DefaultControllerNamespace, rootProps["controller_namespace"].(map[string]any)["default"])
	require.Equal(t, scenario.DefaultRestartDelay.String(), durationDefault(t, rootProps["options"].(map[string]any)["properties"].(map[string]any)["restart_delay"]))
}

// durationDefault reads a schema default ("30s") as time.Duration's String ("30s", "1m0s").
func durationDefault(t *testing.T, m any) string {
	t.Helper()
	d, err := time.ParseDuration(m.(map[string]any)["default"].(string))
	require.NoError(t, err)
	return d.String()
}

// TestSchemaDurations: the duration pattern is model.ParseDuration's grammar.
func TestSchemaDurations(t *testing.T) {
	sch, _ := loadSchema(t)
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"0", true}, {"0s", true}, {"30s", true}, {"1h30m", true}, {"500ms", true}, {"1y2w3d4h5m6s7ms", true},
		{"90m", true}, {"1m30s", true}, {"", false}, {"1.5h", false}, {"30s1m", false}, {"1h1h", false},
		{"-1m", false}, {"1M", false}, {"1us", false}, {"60", false}, {"m", false}, {" 1m", false},
	} {
		doc := "duration: 10y\nscrape_interval: 1h\nobjects:\n  - {kind: Kustomization, name: a, namespace: b, created: '" + tc.at + "'}\n"
		err := sch.Validate(yamlToJSON(t, []byte(doc)))
		_, perr := scenario.Parse("x.yml", []byte(doc), scenario.Limits{})
		require.Equal(t, tc.want, err == nil, "schema on %q: %v", tc.at, err)
		require.Equal(t, tc.want, perr == nil, "gotk-rules on %q: %v", tc.at, perr)
	}
}
