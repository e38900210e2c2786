package githubtest

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEnvFile(t *testing.T) {
	t.Parallel()
	const fixed = "_GitHubActionsFileCommandDelimeter_"
	tests := []struct {
		name    string
		content string
		want    []KeyValue
		wantErr bool
	}{
		{name: "empty file", content: "", want: []KeyValue{}},
		{name: "simple", content: "A=b\nC=d\n", want: []KeyValue{{"A", "b"}, {"C", "d"}}},
		{name: "no trailing newline", content: "A=b", want: []KeyValue{{"A", "b"}}},
		{name: "empty value", content: "A=\n", want: []KeyValue{{"A", ""}}},
		{name: "value keeps later equals", content: "A=b=c==\n", want: []KeyValue{{"A", "b=c=="}}},
		{name: "blank lines skipped", content: "\n\nA=b\n\n", want: []KeyValue{{"A", "b"}}},
		{name: "empty name is accepted", content: "=v\n", want: []KeyValue{{"", "v"}}},
		{name: "equals before heredoc marker", content: "A=x<<y\n", want: []KeyValue{{"A", "x<<y"}}},
		{name: "heredoc", content: "A<<EOF\nline1\nline2\nEOF\n", want: []KeyValue{{"A", "line1\nline2"}}},
		{name: "heredoc marker before equals", content: "A<<EOF=x\nv\nEOF=x\n", want: []KeyValue{{"A", "v"}}},
		{name: "heredoc empty", content: "A<<EOF\nEOF\n", want: []KeyValue{{"A", ""}}},
		// One empty line is an empty value too: the final newline belongs
		// to the delimiter line.
		{name: "heredoc single empty line", content: "A<<EOF\n\nEOF\n", want: []KeyValue{{"A", ""}}},
		{name: "heredoc two empty lines", content: "A<<EOF\n\n\nEOF\n", want: []KeyValue{{"A", "\n"}}},
		{name: "heredoc trailing newline in value", content: "A<<EOF\nv\n\nEOF\n", want: []KeyValue{{"A", "v\n"}}},
		{name: "heredoc delimiter at end of file", content: "A<<EOF\nv\nEOF", want: []KeyValue{{"A", "v"}}},
		{name: "heredoc delimiter must match whole line", content: "A<<EOF\nEOF \nEOF\n", want: []KeyValue{{"A", "EOF "}}},
		{name: "heredoc keeps equals and markers", content: "A<<EOF\nB=c\nD<<E\nEOF\n", want: []KeyValue{{"A", "B=c\nD<<E"}}},
		{name: "bom dropped", content: "\uFEFFA=b\n", want: []KeyValue{{"A", "b"}}},
		{name: "invalid utf-8 replaced", content: "A=\xff\n", want: []KeyValue{{"A", "\uFFFD"}}},
		// Linux keeps a CR before LF in the line.
		{name: "crlf value keeps cr", content: "A=b\r\n", want: []KeyValue{{"A", "b\r"}}},
		{name: "crlf heredoc", content: "B<<EOF\r\nv\r\nEOF\r\n", want: []KeyValue{{"B", "v\r"}}},
		{
			name:    "lf opener with crlf closer never closes",
			content: "A=1\nB<<EOF\nv\nEOF\r\n",
			want:    []KeyValue{{"A", "1"}},
			wantErr: true,
		},
		{name: "missing delimiter keeps earlier entries", content: "A=1\nB<<EOF\nv\n", want: []KeyValue{{"A", "1"}}, wantErr: true},
		{name: "eof marker missing new line", content: "B<<EOF\nv", want: []KeyValue{}, wantErr: true},
		{name: "heredoc empty name", content: "<<EOF\nv\nEOF\n", want: []KeyValue{}, wantErr: true},
		{name: "heredoc empty delimiter", content: "A<<\nv\n\n", want: []KeyValue{}, wantErr: true},
		{name: "neither form", content: "A=1\nJUSTTEXT\nB=2\n", want: []KeyValue{{"A", "1"}}, wantErr: true},
		{
			// A value containing go-githubactions' fixed delimiter closes
			// the heredoc early; what follows becomes entries of its own.
			name:    "fixed delimiter injection",
			content: "A<<" + fixed + "\nx\n" + fixed + "\nLD_PRELOAD=/tmp/evil.so\n" + fixed + "\n",
			want:    []KeyValue{{"A", "x"}, {"LD_PRELOAD", "/tmp/evil.so"}},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseEnvFile(tt.content)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseEnvFile() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrEnvFileFormat) {
				t.Errorf("error %v does not wrap ErrEnvFileFormat", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseEnvFile() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseEnvFileWindows documents the OS_WINDOWS ReadLine, which strips
// the CR; container actions never see it.
func TestParseEnvFileWindows(t *testing.T) {
	t.Parallel()
	got, err := parseEnvFile("A=b\r\nB<<EOF\r\nv\r\nEOF\r\n\r\n", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyValue{{"A", "b"}, {"B", "v"}}
	var kvs []KeyValue
	for _, e := range got {
		kvs = append(kvs, e.KeyValue)
	}
	if diff := cmp.Diff(want, kvs); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// FuzzParseEnvFile checks the port's invariants on arbitrary files, and
// that entries written the way a careful writer does (validated key,
// delimiter absent from the value) read back unchanged.
func FuzzParseEnvFile(f *testing.F) {
	for _, seed := range []string{
		"",
		"A=b\n",
		"A=\n=v\nA=b=c\n",
		"A<<EOF\nline1\nline2\nEOF\n",
		"A<<EOF\n\nEOF\n",
		"A<<EOF\nv",
		"A<<EOF\r\nv\r\nEOF\r\n",
		"<<EOF\n",
		"A<<\n",
		"\uFEFFA=b",
		"A<<_GitHubActionsFileCommandDelimeter_\nx\n_GitHubActionsFileCommandDelimeter_\nLD_PRELOAD=x\n_GitHubActionsFileCommandDelimeter_\n",
		"a<=<<b\n",
		"\xff\xfe=\x00\n",
	} {
		f.Add(seed)
	}
	validKey := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	f.Fuzz(func(t *testing.T, content string) {
		text := decodeText(content)
		entries, err := parseEnvFile(text, false)
		if err != nil && !errors.Is(err, ErrEnvFileFormat) {
			t.Fatalf("error %v does not wrap ErrEnvFileFormat", err)
		}
		for _, e := range entries {
			if e.start < 0 || e.end > len(text) || e.start > e.end || text[e.start:e.end] != e.Value {
				t.Fatalf("entry %q: span [%d,%d) does not hold its value", e.Key, e.start, e.end)
			}
		}
		// Without CRs the Windows reading is the same.
		if !strings.Contains(text, "\r") {
			wentries, werr := parseEnvFile(text, true)
			if (err == nil) != (werr == nil) || len(wentries) != len(entries) {
				t.Fatalf("linux and windows readings differ without CR: %v / %v", err, werr)
			}
		}
		// Re-encode with the toolkit's scheme and read back.
		var b strings.Builder
		var want []KeyValue
		for i, e := range entries {
			if !validKey.MatchString(e.Key) {
				continue
			}
			delim := uniqueDelimiter(e.Value, i)
			b.WriteString(e.Key + "<<" + delim + "\n" + e.Value + "\n" + delim + "\n")
			want = append(want, e.KeyValue)
		}
		got, err := ParseEnvFile(b.String())
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v\n%q", err, b.String())
		}
		if len(want) == 0 {
			want = []KeyValue{}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
		}
	})
}

// uniqueDelimiter returns a delimiter no line of value equals.
func uniqueDelimiter(value string, seed int) string {
	lines := map[string]bool{}
	for _, l := range strings.Split(value, "\n") {
		lines[l] = true
	}
	d := "ghadelimiter_" + strings.Repeat("x", seed%3)
	for lines[d] {
		d += "_"
	}
	return d
}
