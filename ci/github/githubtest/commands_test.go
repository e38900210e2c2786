package githubtest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want *Command
	}{
		{name: "plain output", line: "hello ::world::", want: nil},
		{name: "add-mask", line: "::add-mask::s3cr3t", want: &Command{Name: "add-mask", Properties: map[string]string{}, Data: "s3cr3t"}},
		{name: "leading white space trimmed", line: " \t::debug::x", want: &Command{Name: "debug", Properties: map[string]string{}, Data: "x"}},
		{name: "name is case-insensitive", line: "::ADD-MASK::x", want: &Command{Name: "ADD-MASK", Properties: map[string]string{}, Data: "x"}},
		{name: "unregistered name is output", line: "::set-secret::x", want: nil},
		{name: "empty name is output", line: ":: add-mask::x", want: nil},
		{name: "no closing separator", line: "::add-mask:x", want: nil},
		{name: "empty data", line: "::endgroup::", want: &Command{Name: "endgroup", Properties: map[string]string{}, Data: ""}},
		{name: "data unescaped", line: "::error::a%25b%0Dc%0Ad", want: &Command{Name: "error", Properties: map[string]string{}, Data: "a%b\rc\nd"}},
		{name: "percent escape last", line: "::error::%250A", want: &Command{Name: "error", Properties: map[string]string{}, Data: "%0A"}},
		{name: "colons and commas in data stay", line: "::error::a%3Ab%2Cc::d", want: &Command{Name: "error", Properties: map[string]string{}, Data: "a%3Ab%2Cc::d"}},
		{
			name: "properties",
			line: "::warning file=a.go,line=3, title=x%3Ay%2Cz%25 ::msg",
			want: &Command{Name: "warning", Properties: map[string]string{"file": "a.go", "line": "3", " title": "x:y,z%"}, Data: "msg"}, //nolint:gocritic // the runner keeps the space in " title": it trims the property list, not each key
		},
		{
			name: "malformed properties skipped",
			line: "::warning k=,=v,,a==b,c::msg",
			want: &Command{Name: "warning", Properties: map[string]string{"a": "=b"}, Data: "msg"},
		},
		{
			name: "duplicate property keeps one entry",
			line: "::set-output name=a,NAME=b::v",
			want: &Command{Name: "set-output", Properties: map[string]string{"name": "b"}, Data: "v"},
		},
		{
			name: "trailing space after name",
			line: "::add-mask ::x",
			want: &Command{Name: "add-mask", Properties: map[string]string{}, Data: "x"},
		},
		{
			name: "legacy form anywhere in the line",
			line: "claim value ##[set-output name=x;]y%3Bz%5D",
			want: &Command{Name: "set-output", Properties: map[string]string{"name": "x"}, Data: "y;z]", Legacy: true},
		},
		{name: "legacy unregistered", line: "##[section]Starting", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseCommand(tt.line, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCommand(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "a%b", "%0A", "line1\nline2\r\n", "a:b,c", "%25%3A"} {
		if got := unescapeData(EscapeData(s)); got != s {
			t.Errorf("data %q round-tripped to %q", s, got)
		}
		if got := unescapeProperty(EscapeProperty(s)); got != s {
			t.Errorf("property %q round-tripped to %q", s, got)
		}
	}
}

func TestSplitLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"\n", []string{""}},
		{"a\nb\r\nc\rd", []string{"a", "b", "c", "d"}},
		{"a\r\n\r\n", []string{"a", ""}},
		{"a\n\rb", []string{"a", "", "b"}},
		{"\xffx", []string{"\uFFFDx"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, SplitLines([]byte(tt.in))); diff != "" {
			t.Errorf("SplitLines(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestMasker(t *testing.T) {
	t.Parallel()
	var m secretMasker
	if m.AddMask("  \n ") {
		t.Error("white-space mask accepted")
	}
	m.AddMask("line-one-secret\n  line-two-secret  \n\n")
	m.AddMask("FAKE-SECRET")

	tests := []struct {
		in, want string
	}{
		{"nothing here", "nothing here"},
		{"a FAKE-SECRET b FAKE-SECRET", "a *** b ***"},
		{"line-two-secret alone", "*** alone"},
		// Base64 of the whole value is registered; embedded in a larger
		// blob at another alignment it is not.
		{"b64 " + base64.StdEncoding.EncodeToString([]byte("FAKE-SECRET")), "b64 ***"},
		{"url " + uriDataEscape("FAKE-SECRET"), "url ***"},
		// Touching occurrences merge into one.
		{"FAKE-SECRETFAKE-SECRET", "***"},
	}
	for _, tt := range tests {
		if got := m.MaskAt(m.Len(), tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// MaskAt sees only what was registered earlier.
	var early secretMasker
	early.AddMask("first-secret")
	n := early.Len()
	early.AddMask("second-secret")
	if got := early.MaskAt(n, "first-secret second-secret"); got != "*** second-secret" {
		t.Errorf("MaskAt = %q", got)
	}
}

func TestRunnerEncodings(t *testing.T) {
	t.Parallel()
	got := runnerEncodings(`"it's <a> & b\"c"`)
	want := []string{
		base64.StdEncoding.EncodeToString([]byte(`"it's <a> & b\"c"`)),
		base64.StdEncoding.EncodeToString([]byte(`it's <a> & b\"c"`)),
		base64.StdEncoding.EncodeToString([]byte(`t's <a> & b\"c"`)),
		`"it''s <a> & b\"c"`,
		`\"it's <a> & b\\\"c\"`,
		`%22it%27s%20%3Ca%3E%20%26%20b%5C%22c%22`,
		`&quot;it&apos;s &lt;a&gt; &amp; b\&quot;c&quot;`,
		`it's <a> & b\"c`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runnerEncodings mismatch (-want +got):\n%s", diff)
	}
}

// EscapeData escapes a command's data as actions/toolkit does, the inverse
// of the runner's unescaping.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a command property value as actions/toolkit does.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
