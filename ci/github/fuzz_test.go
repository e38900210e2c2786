package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oidc-exchange/oidc-exchange/ci/github/githubtest"
	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// FuzzFileCommand checks the file-command property: parsing what we write
// with the runner's parser yields exactly the name and value written, even
// after earlier content, or the write is refused.
func FuzzFileCommand(f *testing.F) {
	for _, s := range []struct{ name, value string }{
		{"AWS_SECRET_ACCESS_KEY", "FAKE-secret"},
		{"A", ""},
		{"A", "\n"},
		{"A", "x\n_GitHubActionsFileCommandDelimeter_\nLD_PRELOAD=/evil"},
		{"A", "x\nghadelimiter_000102030405060708090a0b0c0d0e0f\nB=1"},
		{"A=B", "x"},
		{"A<<B", "x"},
		{"a-b", "x\r\ny\r"},
		{"NODE_OPTIONS", "--require=/evil"},
		{"A", "\xff"},
	} {
		f.Add(s.name, s.value, false)
		f.Add(s.name, s.value, true)
	}
	f.Fuzz(func(t *testing.T, name, value string, output bool) {
		kind := kindEnv
		if output {
			kind = kindOutput
		}
		b := batch{kind: kind, entries: []entry{{name: name, value: value}}}
		p, err := payload(b, "\n", &seqReader{})
		if err != nil {
			return
		}
		// Windows runners read CRLF; with it every value round-trips
		// through their parser too, a trailing CR included.
		pw, err := payload(b, "\r\n", &seqReader{})
		if err != nil {
			t.Fatalf("refused with CRLF what LF accepted: %v", err)
		}
		got, err := githubtest.ParseEnvFileWindows(string(pw))
		if err != nil || len(got) != 1 || got[0].Key != name || got[0].Value != value {
			t.Fatalf("the Windows runner parses %q into %q, %v; want %q=%q", pw, got, err, name, value)
		}
		if !validName(name, output) || !utf8.ValidString(value) || (!output && strings.EqualFold(name, nodeOptions)) {
			t.Fatalf("accepted %q=%q", name, value)
		}
		for _, before := range []string{"", "EARLIER=1\n"} {
			got, err := parseFileCommand(before + string(p))
			if err != nil {
				t.Fatalf("the runner would fail on %q: %v", p, err)
			}
			want := []pair{{name, value}}
			if before != "" {
				want = append([]pair{{"EARLIER", "1"}}, want...)
			}
			if len(got) != len(want) {
				t.Fatalf("parsed %d entries from %q, want %d: %q", len(got), p, len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("entry %d = %q, want %q", i, got[i], want[i])
				}
			}
			crossCheckEnvFile(t, before+string(p), want)
		}
	})
}

// FuzzLogHandler checks that no message or attribute makes the handler
// print a workflow command other than its own.
func FuzzLogHandler(f *testing.F) {
	for _, s := range injections() {
		f.Add(s, "k", s, 0)
		f.Add("msg", s, s, 2)
	}
	f.Add("%0A::x", "%", "%25", 3)
	f.Add("\xc2\x85::x", "", "\u2028", 1)
	f.Fuzz(func(t *testing.T, msg, key, value string, lvl int) {
		levels := []struct {
			level slog.Level
			name  string
		}{{slog.LevelDebug, "debug"}, {slog.LevelInfo, ""}, {slog.LevelWarn, "warning"}, {slog.LevelError, "error"}}
		l := levels[(lvl%4+4)%4]
		var out bytes.Buffer
		slog.New(NewLogHandler(&out, slog.LevelDebug)).With(key, value).WithGroup(key).
			Log(context.Background(), l.level, msg, key, value, "err", errors.New(value))
		assertOnlyOurCommand(t, out.String(), l.name)
		if l.name == "" {
			crossCheckCommands(t, out.String())
		} else {
			crossCheckCommands(t, out.String(), l.name)
		}
		if l.name == "" {
			if got, want := len(runnerLines(out.String())), strings.Count(msg, "\n")+1; got != want {
				t.Errorf("printed %d lines for a %d-line message:\n%q", got, want, out.String())
			}
		}
	})
}

// FuzzInertLine checks the plain-line escaping on its own.
func FuzzInertLine(f *testing.F) {
	for _, s := range injections() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := inertLine(s)
		if lines := runnerLines(got); len(lines) > 1 {
			t.Fatalf("inertLine(%q) = %q breaks the line", s, got)
		}
		if _, ok := parseWorkflowCommand(got); ok {
			t.Fatalf("inertLine(%q) = %q is a command", s, got)
		}
		crossCheckCommands(t, got)
	})
}

// FuzzAuditLine checks the printed audit record: one line, no command,
// and JSON that decodes to the record.
func FuzzAuditLine(f *testing.F) {
	for _, s := range injections() {
		f.Add(s)
	}
	f.Add("refs/heads/##[##[[")
	f.Fuzz(func(t *testing.T, ref string) {
		rec := &exchange.AuditRecord{Ref: ref, Environment: ref}
		line := string(inertJSON(rec.JSON()))
		if lines := runnerLines(line); len(lines) != 1 {
			t.Fatalf("the audit line breaks: %q", line)
		}
		if _, ok := parseWorkflowCommand(line); ok {
			t.Fatalf("the audit line is a command: %q", line)
		}
		crossCheckCommands(t, line)
		var got exchange.AuditRecord
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		want := &exchange.AuditRecord{}
		_ = json.Unmarshal(rec.JSON(), want) // invalid UTF-8 becomes U+FFFD either way
		if got.Ref != want.Ref || got.Environment != want.Environment {
			t.Fatalf("decoded ref %q, want %q", got.Ref, want.Ref)
		}
	})
}

// FuzzPrintUntrusted checks that the runner acts on nothing inside the
// block.
func FuzzPrintUntrusted(f *testing.F) {
	for _, s := range injections() {
		f.Add(s)
	}
	f.Add("::000102030405060708090a0b0c0d0e0f::\n::stop-commands::x")
	f.Fuzz(func(t *testing.T, text string) {
		var out bytes.Buffer
		if err := PrintUntrusted(&out, text, &seqReader{}); err != nil {
			return
		}
		acted := simulateRunner(out.String())
		if len(acted) != 2 || acted[0].Name != "stop-commands" || !strings.EqualFold(acted[1].Name, acted[0].Data) {
			t.Fatalf("the runner acts on %q for text %q", acted, text)
		}
	})
}

// FuzzDefaultIssuer checks that every issuer DefaultIssuer returns is one
// the verifier accepts and keeps the slug as its last segment, and that
// every refusal is an input error.
func FuzzDefaultIssuer(f *testing.F) {
	for _, s := range []struct{ server, slug string }{
		{"", ""},
		{"https://github.com", "avocado-corp"},
		{"https://octocorp.ghe.com", "octocorp"},
		{"https://ghes.example.com:8443", ""},
		{"http://127.0.0.1:1", ""},
		{"https://ghes.example.com/..", ""},
		{"https://github.com", "../x"},
		{"https://[::1]", ""},
		{"https://a%c3%a9.example", ""},
	} {
		f.Add(s.server, s.slug)
	}
	f.Fuzz(func(t *testing.T, server, slug string) {
		got, err := DefaultIssuer(server, slug)
		if err != nil {
			if !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("DefaultIssuer(%q, %q): %v is not an input error", server, slug, err)
			}
			return
		}
		if err := exchange.ValidateIssuer(got); err != nil {
			t.Fatalf("DefaultIssuer(%q, %q) = %q, which the verifier refuses: %v", server, slug, got, err)
		}
		if slug != "" && !strings.HasSuffix(got, "/"+slug) {
			t.Fatalf("DefaultIssuer(%q, %q) = %q lost the slug", server, slug, got)
		}
		if strings.Count(got, "/") > 5 {
			t.Fatalf("DefaultIssuer(%q, %q) = %q has an unexpected path", server, slug, got)
		}
	})
}
