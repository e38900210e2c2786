package github

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// This file holds test doubles that follow the runner's own code: the
// file-command parser (EnvFileKeyValuePairs in FileCommandManager.cs, Linux
// line endings) and the workflow-command parsers (ActionCommand.TryParseV2
// and TryParse, tried in that order by ActionCommandManager).

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type pair struct{ Key, Value string }

// parseFileCommand ports the runner's EnvFileKeyValuePairs for Linux.
func parseFileCommand(text string) ([]pair, error) {
	var out []pair
	idx := 0
	// readLine returns the next line without its LF, whether an LF ended
	// it, and false at the end of the text.
	readLine := func() (string, bool, bool) {
		if idx >= len(text) {
			return "", false, false
		}
		start := idx
		lf := strings.IndexByte(text[idx:], '\n')
		if lf < 0 {
			idx = len(text)
			return text[start:], false, true
		}
		idx = start + lf + 1
		return text[start : start+lf], true, true
	}
	for {
		line, _, ok := readLine()
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			k, v, _ := strings.Cut(line, "=")
			out = append(out, pair{k, v})
		case hd >= 0 && (eq < 0 || hd < eq):
			k, delim, _ := strings.Cut(line, "<<")
			if k == "" || delim == "" {
				return out, errors.New("invalid format: empty name or delimiter")
			}
			start, end := idx, idx
			for {
				l, nl, ok := readLine()
				if ok && l == delim {
					break
				}
				if !ok {
					return out, errors.New("matching delimiter not found")
				}
				if !nl {
					return out, errors.New("EOF marker missing new line")
				}
				end = idx - 1
			}
			v := ""
			if end > start {
				v = text[start:end]
			}
			out = append(out, pair{k, v})
		default:
			return out, errors.New("invalid format")
		}
	}
}

// isRegistered reports the runner's command extensions plus
// stop-commands; the runner compares them case-insensitively.
func isRegistered(name string) bool {
	switch strings.ToLower(name) {
	case "set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher", "remove-matcher",
		"debug", "notice", "warning", "error", "group", "endgroup", "echo", "stop-commands":
		return true
	}
	return false
}

type workflowCommand struct {
	Name string
	Data string
}

// runnerLines splits output the way the runner's StreamReader.ReadLine
// does: at CRLF, CR and LF.
func runnerLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// parseWorkflowCommand reports whether the runner would treat line as a
// registered command, trying the "::" form and then the legacy "##[" form.
func parseWorkflowCommand(line string) (workflowCommand, bool) {
	if m := strings.TrimLeftFunc(line, isDotNetSpace); strings.HasPrefix(m, "::") {
		if end := strings.Index(m[2:], "::"); end >= 0 {
			info := m[2 : 2+end]
			name, _, _ := strings.Cut(info, " ")
			if isRegistered(name) {
				return workflowCommand{Name: name, Data: unescapeData(m[2+end+2:])}, true
			}
		}
	}
	if i := strings.Index(line, "##["); i >= 0 {
		if rb := strings.IndexByte(line[i:], ']'); rb >= 0 {
			name, _, _ := strings.Cut(line[i+3:i+rb], " ")
			if isRegistered(name) {
				return workflowCommand{Name: name, Data: line[i+rb+1:]}, true
			}
		}
	}
	return workflowCommand{}, false
}

// isDotNetSpace is .NET's char.IsWhiteSpace.
func isDotNetSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000':
		return true
	}
	return r >= '\u2000' && r <= '\u200a'
}

// unescapeData is the runner's UnescapeData, in its order.
func unescapeData(s string) string {
	s = strings.ReplaceAll(s, "%0D", "\r")
	s = strings.ReplaceAll(s, "%0A", "\n")
	return strings.ReplaceAll(s, "%25", "%")
}

// commands returns the commands the runner would act on in out.
func commands(out string) []workflowCommand {
	var cmds []workflowCommand
	for _, l := range runnerLines(out) {
		if c, ok := parseWorkflowCommand(l); ok {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// syncBuffer is a bytes.Buffer safe for the concurrent writers of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// seqReader is a deterministic "random" source: 0x00, 0x01, 0x02, …
type seqReader struct{ next byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

// env is a map-backed getenv.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// commandFiles creates empty GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE and
// GITHUB_STEP_SUMMARY files, as the runner does before each step, and
// returns the environment naming them.
func commandFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	m := map[string]string{}
	for _, v := range []string{"GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY"} {
		p := filepath.Join(dir, strings.ToLower(v))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		m[v] = p
	}
	return m
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseFileCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    []pair
		wantErr bool
	}{
		{name: "plain", text: "A=b\nC=\n", want: []pair{{"A", "b"}, {"C", ""}}},
		{name: "heredoc", text: "A<<D\nx\ny\nD\n", want: []pair{{"A", "x\ny"}}},
		{name: "empty heredoc", text: "A<<D\nD\n", want: []pair{{"A", ""}}},
		{name: "blank line value", text: "A<<D\n\nD\n", want: []pair{{"A", ""}}},
		{name: "trailing newline kept", text: "A<<D\nx\n\nD\n", want: []pair{{"A", "x\n"}}},
		{name: "cr kept", text: "A<<D\nx\r\nD\n", want: []pair{{"A", "x\r"}}},
		{name: "delimiter at eof", text: "A<<D\nx\nD", want: []pair{{"A", "x"}}},
		{name: "missing delimiter", text: "A<<D\nx\n", want: nil, wantErr: true},
		{name: "injection through fixed delimiter", text: "A<<D\nx\nD\nLD_PRELOAD=/evil\nD\n",
			want: []pair{{"A", "x"}, {"LD_PRELOAD", "/evil"}}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFileCommand(tc.text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWorkflowCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line   string
		want   workflowCommand
		wantOK bool
	}{
		{"::add-mask::a%0Ab", workflowCommand{"add-mask", "a\nb"}, true},
		{"  \u00a0::warning::x", workflowCommand{"warning", "x"}, true},
		{"text ##[error]boom", workflowCommand{"error", "boom"}, true},
		{"::unknown::x", workflowCommand{}, false},
		{`\::error::x`, workflowCommand{}, false},
		{`##\[error]x`, workflowCommand{}, false},
		{"{\"ref\":\"##\\u005berror]x\"}", workflowCommand{}, false},
	}
	for _, tc := range tests {
		got, ok := parseWorkflowCommand(tc.line)
		if ok != tc.wantOK || got != tc.want {
			t.Errorf("parseWorkflowCommand(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.wantOK)
		}
	}
}
