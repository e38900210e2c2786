package github

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/githubfacts"
)

// hostileRecord carries claim values crafted to break out of the log line
// and the summary table.
func hostileRecord() *exchange.AuditRecord {
	return &exchange.AuditRecord{
		Schema:      exchange.AuditSchema,
		Time:        "2026-01-02T03:04:05Z",
		Outcome:     exchange.OutcomeSuccess,
		CI:          "github-actions",
		Issuer:      githubfacts.DotComIssuer,
		Subject:     "repo:octo-org/octo-repo:ref:refs/heads/a|b",
		Audience:    "sts.amazonaws.com",
		Repository:  "octo-org/octo-repo",
		Ref:         "refs/heads/a|b\n::set-env name=LD_PRELOAD::/evil\r##[add-mask]x <b>",
		Environment: "prod\u2028::error::forged",
		TokenSHA256: strings.Repeat("ab", 32),
		Provider:    "aws",
		Target:      "arn:aws:iam::000000000000:role/FAKE",
		Scopes:      []string{"s3:GetObject"},
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	vars := commandFiles(t)
	e, out := newTestEdge(t, env(vars))
	rec := hostileRecord()

	if err := e.Report(context.Background(), rec); err != nil {
		t.Fatalf("Report: %v", err)
	}

	lines := runnerLines(out.String())
	if len(lines) != 3 {
		t.Fatalf("printed %d lines, want 3:\n%s", len(lines), out.String())
	}
	if lines[0] != "::group::oidc-exchange audit record" || lines[2] != "::endgroup::" {
		t.Errorf("group lines = %q, %q", lines[0], lines[2])
	}
	var names []string
	for _, c := range commands(out.String()) {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"group", "endgroup"}, names); diff != "" {
		t.Errorf("commands the runner sees (-want +got):\n%s", diff)
	}
	crossCheckCommands(t, out.String(), "group", "endgroup")
	var got exchange.AuditRecord
	if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
		t.Fatalf("the audit line is not JSON: %v", err)
	}
	if diff := cmp.Diff(*rec, got); diff != "" {
		t.Errorf("audit line decodes to a different record (-want +got):\n%s", diff)
	}
	if strings.Contains(lines[1], "##[") {
		t.Errorf("the audit line contains the legacy command prefix: %s", lines[1])
	}

	summary := readFile(t, vars["GITHUB_STEP_SUMMARY"])
	if summary != rec.Markdown() {
		t.Errorf("summary = %q, want the record's Markdown", summary)
	}
	if !strings.Contains(summary, `refs/heads/a\|b\n::set-env`) {
		t.Errorf("the ref is not escaped in the summary:\n%s", summary)
	}
	for _, l := range strings.Split(strings.TrimSuffix(summary, "\n"), "\n") {
		if strings.HasPrefix(l, "|") && !strings.HasSuffix(l, "|") {
			t.Errorf("a table row was broken: %q", l)
		}
	}
}

func TestReportSummaryLimits(t *testing.T) {
	t.Parallel()
	rec := hostileRecord()
	tests := []struct {
		name        string
		prefill     int
		unset       bool
		remove      bool
		wantAppend  bool
		wantErr     bool
		wantWarning string
	}{
		{name: "appends", wantAppend: true},
		{name: "appends up to the limit", prefill: maxSummarySize - len(rec.Markdown()), wantAppend: true},
		{name: "skips over the limit", prefill: maxSummarySize - len(rec.Markdown()) + 1, wantWarning: "1 MiB"},
		{name: "variable unset", unset: true, wantWarning: "GITHUB_STEP_SUMMARY is not set"},
		{name: "file missing", remove: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := commandFiles(t)
			p := vars["GITHUB_STEP_SUMMARY"]
			prefill := bytes.Repeat([]byte("x"), tc.prefill)
			if err := os.WriteFile(p, prefill, 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.unset {
				delete(vars, "GITHUB_STEP_SUMMARY")
			}
			if tc.remove {
				os.Remove(p)
			}
			e, out := newTestEdge(t, env(vars))

			err := e.Report(context.Background(), rec)

			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !strings.HasPrefix(out.String(), "::group::") {
				t.Errorf("the audit record was not printed:\n%s", out.String())
			}
			if tc.wantWarning != "" {
				var warned bool
				for _, c := range commands(out.String()) {
					warned = warned || c.Name == "warning" && strings.Contains(c.Data, tc.wantWarning)
				}
				if !warned {
					t.Errorf("no warning mentioning %q:\n%s", tc.wantWarning, out.String())
				}
			}
			if tc.remove {
				return
			}
			want := string(prefill)
			if tc.wantAppend {
				want += rec.Markdown()
			}
			if got := readFile(t, p); got != want {
				t.Errorf("summary has %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestReportNil(t *testing.T) {
	t.Parallel()
	e, _ := newTestEdge(t, env(nil))
	if err := e.Report(context.Background(), nil); err == nil {
		t.Error("Report(nil) succeeded")
	}
}

// simulateRunner replays out through the runner's command manager:
// stop-commands pauses every command until the line naming its token. It
// returns the commands acted on.
func simulateRunner(out string) []workflowCommand {
	var acted []workflowCommand
	stopToken := ""
	for _, l := range runnerLines(out) {
		c, ok := parseWorkflowCommand(l)
		if !ok && stopToken != "" {
			// While stopped, the token is a registered command too.
			if m := strings.TrimLeftFunc(l, isDotNetSpace); strings.EqualFold(m, "::"+stopToken+"::") {
				c, ok = workflowCommand{Name: stopToken}, true
			}
		}
		if !ok {
			continue
		}
		switch {
		case stopToken != "" && strings.EqualFold(c.Name, stopToken):
			stopToken = ""
			acted = append(acted, c)
		case stopToken != "":
		case c.Name == "stop-commands":
			stopToken = c.Data
			acted = append(acted, c)
		default:
			acted = append(acted, c)
		}
	}
	return acted
}

func TestPrintUntrusted(t *testing.T) {
	t.Parallel()
	token := "000102030405060708090a0b0c0d0e0f"
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "empty", text: "", want: "::stop-commands::" + token + "\n::" + token + "::\n"},
		{name: "one line", text: "hello", want: "::stop-commands::" + token + "\nhello\n::" + token + "::\n"},
		{name: "trailing newline kept", text: "a\nb\n", want: "::stop-commands::" + token + "\na\nb\n::" + token + "::\n"},
		{name: "injections", text: strings.Join(injections(), "\n"),
			want: "::stop-commands::" + token + "\n" + strings.Join(injections(), "\n") + "\n::" + token + "::\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			if err := PrintUntrusted(&out, tc.text, &seqReader{}); err != nil {
				t.Fatalf("PrintUntrusted: %v", err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			want := []workflowCommand{{Name: "stop-commands", Data: token}, {Name: token}}
			if diff := cmp.Diff(want, simulateRunner(out.String())); diff != "" {
				t.Errorf("commands the runner acts on (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrintUntrustedTokenCollision(t *testing.T) {
	t.Parallel()
	text := "::" + strings.Repeat("0", 2*delimiterBytes) + "::"
	var out bytes.Buffer
	if err := PrintUntrusted(&out, text, zeroReader{}); err == nil {
		t.Error("PrintUntrusted printed a text containing its token")
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
	if err := PrintUntrusted(&out, text, nil); err != nil {
		t.Errorf("with crypto/rand: %v", err)
	}
}
