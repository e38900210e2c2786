package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

func TestLogHandlerLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug - 4, "::debug::m k=v\n"},
		{slog.LevelDebug, "::debug::m k=v\n"},
		{slog.LevelInfo, "m k=v\n"},
		{slog.LevelInfo + 2, "m k=v\n"},
		{slog.LevelWarn, "::warning::m k=v\n"},
		{slog.LevelError, "::error::m k=v\n"},
		{slog.LevelError + 4, "::error::m k=v\n"},
	}
	for _, tc := range tests {
		t.Run(tc.level.String(), func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			slog.New(NewLogHandler(&out, slog.LevelDebug-4)).Log(context.Background(), tc.level, "m", "k", "v")
			if got := out.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogHandlerEnabled(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	log := slog.New(NewLogHandler(&out, nil))
	log.Debug("hidden")
	log.Info("shown")
	if got, want := out.String(), "shown\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLogHandlerFormatting(t *testing.T) {
	t.Parallel()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"quoting", func(l *slog.Logger) { l.Info("m", "a", "two words", "b", `say "hi"`, "c", "", "d", "x=y") },
			`m a="two words" b="say \"hi\"" c="" d="x=y"` + "\n"},
		{"kinds", func(l *slog.Logger) {
			l.Info("m", "n", 42, "ok", true, "d", 1500*time.Millisecond, "t", when, "err", errors.New("boom"))
		}, "m n=42 ok=true d=1.5s t=2026-01-02T03:04:05Z err=boom\n"},
		{"secrets are redacted", func(l *slog.Logger) {
			l.Info("m", "token", exchange.NewSecret("FAKE-secret"), "var", exchange.SecretVariable("A", exchange.NewSecret("FAKE-secret")))
		}, "m token=REDACTED var.name=A var.value=REDACTED\n"},
		{"groups", func(l *slog.Logger) {
			l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").Info("m", "c", 3, slog.Group("i", "d", 4))
		}, "m a=1 g.b=2 g.h.c=3 g.h.i.d=4\n"},
		{"empty group and attr", func(l *slog.Logger) { l.WithGroup("").Info("m", slog.Group("e"), slog.Attr{}) }, "m\n"},
		{"inline group", func(l *slog.Logger) { l.Info("m", slog.Group("", "a", 1)) }, "m a=1\n"},
		{"percent in a command", func(l *slog.Logger) { l.Warn("50% done", "p", "%0A") }, "::warning::50%25 done p=%250A\n"},
		{"multi-line command", func(l *slog.Logger) { l.Error("first\nsecond") }, "::error::first%0Asecond\n"},
		{"multi-line plain", func(l *slog.Logger) { l.Info("first\nsecond", "k", "v") }, "first\nsecond k=v\n"},
		{"control characters", func(l *slog.Logger) { l.Info("a\rb\x1b[31m", "k", "x\ny") }, `a\rb\u001b[31m k=x\ny` + "\n"},
		{"cr in a command", func(l *slog.Logger) { l.Warn("a\rb") }, `::warning::a\rb` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			tc.log(slog.New(NewLogHandler(&out, slog.LevelDebug)))
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// injections are texts that would be workflow commands if printed raw.
func injections() []string {
	return []string{
		"\n::set-env name=X::y",
		"x\r::add-mask::y",
		"::error::forged",
		"   ::warning::indented",
		"\u00a0\u2003::group::unicode space",
		"\u200b::debug::zero width",
		"%0A::set-output name=x::y",
		"a%0D%0A::stop-commands::t",
		"text ##[set-env name=X;]y",
		"###[add-mask]z",
		"::",
		"refs/heads/::add-path::/tmp/evil",
	}
}

func TestLogHandlerInjection(t *testing.T) {
	t.Parallel()
	levels := map[slog.Level]string{slog.LevelDebug: "debug", slog.LevelInfo: "", slog.LevelWarn: "warning", slog.LevelError: "error"}
	for level, name := range levels {
		for i, attack := range injections() {
			t.Run(fmt.Sprintf("%s/%d", level, i), func(t *testing.T) {
				t.Parallel()
				var out syncBuffer
				log := slog.New(NewLogHandler(&out, slog.LevelDebug))
				log.With("pre", attack).WithGroup(attack).Log(context.Background(), level, attack, attack, attack, "e", errors.New(attack))
				assertOnlyOurCommand(t, out.String(), name)
				if name == "" {
					crossCheckCommands(t, out.String())
				} else {
					crossCheckCommands(t, out.String(), name)
				}
			})
		}
	}
}

// assertOnlyOurCommand checks that the runner would see exactly one
// command named want in out (none when want is ""), and that the command
// is on the first line.
func assertOnlyOurCommand(t *testing.T, out, want string) {
	t.Helper()
	lines := runnerLines(out)
	for i, l := range lines {
		c, ok := parseWorkflowCommand(l)
		switch {
		case ok && (want == "" || i > 0 || c.Name != want):
			t.Errorf("line %d is a command the runner would run: %q\nfull output:\n%s", i, l, out)
		case !ok && want != "" && i == 0:
			t.Errorf("line 0 is not the %s command: %q", want, l)
		}
	}
	if want != "" && len(lines) != 1 {
		t.Errorf("a %s record printed %d lines, want 1:\n%s", want, len(lines), out)
	}
}

func TestLogHandlerConcurrent(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	log := slog.New(NewLogHandler(&out, slog.LevelDebug))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			l := log.With("worker", i)
			for j := range 20 {
				l.Warn("message", "j", j)
				l.WithGroup("g").Debug("message", "j", j)
			}
		})
	}
	wg.Wait()
	lines := runnerLines(out.String())
	if len(lines) != 800 {
		t.Fatalf("got %d lines, want 800", len(lines))
	}
	for _, l := range lines {
		var w, j int
		_, errWarn := fmt.Sscanf(l, "::warning::message worker=%d j=%d", &w, &j)
		_, errDebug := fmt.Sscanf(l, "::debug::message worker=%d g.j=%d", &w, &j)
		if errWarn != nil && errDebug != nil {
			t.Errorf("garbled line %q", l)
		}
	}
}
