package exchange

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOutcomeOf(t *testing.T) {
	t.Parallel()
	timedOut := fmt.Errorf("timed out after 30s: %w: %w", ErrTimedOut, &ProviderError{Provider: "aws", Kind: ErrProviderUnavailable})
	tests := []struct {
		name     string
		err      error
		class    Class
		code     string
		exit     int
		hintPart string
	}{
		{"success", nil, ClassNone, "", ExitOK, ""},
		{"input", InputError("aws-region", "is required"), ClassInput, "InvalidInput", ExitInput, ""},
		{"provider rejected", &ProviderError{Provider: "aws", Code: "ValidationError", Kind: ErrProviderRejected}, ClassInput, "ValidationError", ExitInput, ""},
		{"provider answer without a code", &ProviderError{Provider: "gcp", Kind: ErrProviderAnswer}, ClassInput, "ProviderAnswer", ExitInput, ""},
		{"claims", &ExpectationError{}, ClassDenied, "ClaimMismatch", ExitDenied, "expect-claims"},
		{"provider denied", &ProviderError{Provider: "aws", Code: "AccessDenied", Kind: ErrProviderDenied}, ClassDenied, "AccessDenied", ExitDenied, ""},
		{"permission wraps unavailable", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL is not set: %w", ErrTokenPermission), ClassToken, "TokenUnavailable", ExitToken, "id-token: write"},
		{"token file missing", fmt.Errorf("opening token file: %w", ErrTokenUnavailable), ClassToken, "TokenUnavailable", ExitToken, ""},
		{"expired", ErrTokenExpired, ClassToken, "TokenExpired", ExitToken, "runner's clock"},
		{"audience", ErrAudienceMismatch, ClassToken, "AudienceMismatch", ExitToken, "input audience"},
		{"issuer", ErrIssuerMismatch, ClassToken, "IssuerMismatch", ExitToken, "oidc-issuer"},
		{"invalid", ErrTokenInvalid, ClassToken, "TokenInvalid", ExitToken, ""},
		{"timed out, the provider's own code aside", timedOut, ClassUnavailable, "Timeout", ExitUnavailable, "time budget"},
		{"upstream", fmt.Errorf("fetching JWKS: %w", ErrUpstreamUnavailable), ClassUnavailable, "UpstreamUnavailable", ExitUnavailable, "transiently"},
		{"provider unavailable, joined with the cause", errors.Join(&ProviderError{Provider: "broker", Code: "server_error", Kind: ErrProviderUnavailable}, context.DeadlineExceeded),
			ClassUnavailable, "server_error", ExitUnavailable, "transiently"},
		{"export", fmt.Errorf("%w: disk full", ErrExport), ClassInternal, "ExportFailed", ExitInternal, ""},
		{"deadline", context.DeadlineExceeded, ClassInternal, "Timeout", ExitInternal, ""},
		{"cancelled", context.Canceled, ClassInternal, "Cancelled", ExitInternal, ""},
		{"unknown", errors.New("boom"), ClassInternal, "Internal", ExitInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := OutcomeOf(tt.err)
			got := []any{Classify(tt.err), ErrorCode(tt.err), o.Exit}
			if diff := cmp.Diff([]any{tt.class, tt.code, tt.exit}, got); diff != "" {
				t.Errorf("class, code, exit of %v (-want +got):\n%s", tt.err, diff)
			}
			if (tt.hintPart == "") != (o.Hint == "") || !strings.Contains(o.Hint, tt.hintPart) {
				t.Errorf("hint %q, want one containing %q", o.Hint, tt.hintPart)
			}
		})
	}
}

// TestOutcomesConsistent: one exit code per class and one class per exit
// code, every row has a code, and a sentinel that wraps another comes
// before it, or its row could never match.
func TestOutcomesConsistent(t *testing.T) {
	t.Parallel()
	exitOf := map[Class]int{ClassNone: ExitOK}
	classOf := map[int]Class{ExitOK: ClassNone}
	for i, o := range allOutcomes() {
		if e, ok := exitOf[o.Class]; ok && e != o.Exit {
			t.Errorf("row %d (%v): class %q has exit %d and %d", i, o.Err, o.Class, e, o.Exit)
		}
		if c, ok := classOf[o.Exit]; ok && c != o.Class {
			t.Errorf("row %d (%v): exit %d is class %q and %q", i, o.Err, o.Exit, c, o.Class)
		}
		exitOf[o.Class], classOf[o.Exit] = o.Exit, o.Class
		if o.Code == "" || o.Class == ClassNone {
			t.Errorf("row %d (%v) lacks a code or a class", i, o.Err)
		}
	}
	for i, o := range outcomes {
		for j, earlier := range outcomes[:i] {
			if errors.Is(o.Err, earlier.Err) {
				t.Errorf("row %d (%v) wraps row %d (%v) but comes after it, so it never matches", i, o.Err, j, earlier.Err)
			}
		}
	}
}

// TestEverySentinelHasAnOutcome reads errors.go and outcome.go: every Err…
// variable declared in errors.go has a row in the table.
func TestEverySentinelHasAnOutcome(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	declared := map[string]bool{}
	f, err := parser.ParseFile(fset, "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") {
						declared[n.Name] = true
					}
				}
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d sentinels in errors.go", len(declared))
	}
	f, err = parser.ParseFile(fset, "outcome.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, keyOK := kv.Key.(*ast.Ident)
		val, valOK := kv.Value.(*ast.Ident)
		if keyOK && valOK && key.Name == "Err" {
			inTable[val.Name] = true
		}
		return true
	})
	for name := range declared {
		if !inTable[name] {
			t.Errorf("%s has no row in the outcome table", name)
		}
	}
}

// TestREADMETroubleshooting holds the README's troubleshooting table to the
// outcome table: a row per exit code with its class, every hint in the
// row of its exit code, and no row the table does not know.
func TestREADMETroubleshooting(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Troubleshooting by exit code\n")
	if !ok {
		t.Fatal("README.md has no section Troubleshooting by exit code")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[int]string{}    // exit code → whole row
	classes := map[int]string{} // exit code → Class column
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "|") {
			continue
		}
		exit, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue // the header and its rule
		}
		rows[exit] = line
		classes[exit] = strings.TrimSpace(cells[2])
	}
	outcomes := append([]Outcome{{Class: ClassNone, Exit: ExitOK}}, allOutcomes()...)
	known := map[int]bool{}
	for _, o := range outcomes {
		known[o.Exit] = true
		row, ok := rows[o.Exit]
		if !ok {
			t.Errorf("README's troubleshooting table has no row for exit %d (%s)", o.Exit, o.Class)
			continue
		}
		if classes[o.Exit] != string(o.Class) {
			t.Errorf("README: exit %d is class %q, the outcome table says %q", o.Exit, classes[o.Exit], o.Class)
		}
		if o.Hint != "" && !strings.Contains(row, o.Hint) {
			t.Errorf("README: the row of exit %d lacks the hint of %v: %q", o.Exit, o.Err, o.Hint)
		}
	}
	for exit := range rows {
		if !known[exit] {
			t.Errorf("README documents exit %d, which no outcome has", exit)
		}
	}
	if got := slices.Sorted(maps.Keys(rows)); len(got) != 6 {
		t.Errorf("README rows for exits %v, want 0 to 5", got)
	}
}

// allOutcomes is the table in matching order, then the internal outcome.
func allOutcomes() []Outcome {
	return append(append(make([]Outcome, 0, len(outcomes)+1), outcomes...), internal)
}

// TestExitCodes pins the usage text's line of exit codes, which comes from
// the table: every exit code once, in order, each with a summary.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	want := []ExitCode{
		{ExitOK, ClassNone, "ok"},
		{ExitInternal, ClassInternal, "internal"},
		{ExitInput, ClassInput, "bad input"},
		{ExitToken, ClassToken, "token or verification"},
		{ExitDenied, ClassDenied, "denied"},
		{ExitUnavailable, ClassUnavailable, "unavailable"},
	}
	if diff := cmp.Diff(want, ExitCodes()); diff != "" {
		t.Errorf("ExitCodes() (-want +got):\n%s", diff)
	}
	for _, o := range allOutcomes() {
		if classSummaries[o.Class] == "" {
			t.Errorf("class %q (exit %d) has no summary", o.Class, o.Exit)
		}
	}
}
