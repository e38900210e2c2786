package github

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// NewLogHandler returns a [slog.Handler] that writes records to w (the
// step's stdout) as the runner expects them:
//
//	Debug → ::debug::message k=v   (shown only with step debug logging)
//	Info  → message k=v            (a plain line)
//	Warn  → ::warning::message k=v (an annotation)
//	Error → ::error::message k=v   (an annotation)
//
// Attribute values pass through [exchange.Sanitize], so a claim cannot add
// a line; values holding spaces or quotes are quoted. Command data is
// escaped with the runner's rules (% → %25, CR → %0D, LF → %0A), so a
// multi-line message stays one command. Plain lines are sanitized line by
// line, "##[" is defused and a leading "::" is prefixed with a backslash,
// so no text can become a workflow command. Times and sources are left out:
// the runner timestamps every line. A nil level means [slog.LevelInfo].
//
// The handler is safe for concurrent use and writes each record with one
// call to w. Handlers derived with WithAttrs and WithGroup share its lock.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &logHandler{mu: new(sync.Mutex), w: w, level: level}
}

type logHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	// prefix is the open groups, each followed by a dot.
	prefix string
	// attrs is the rendered WithAttrs attributes, each with a leading
	// space.
	attrs string
}

// Enabled implements [slog.Handler].
func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// WithAttrs implements [slog.Handler].
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	var b strings.Builder
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs += b.String()
	return &h2
}

// WithGroup implements [slog.Handler].
func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

// Handle implements [slog.Handler].
func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	var out string
	switch {
	case r.Level >= slog.LevelError:
		out = command("error", sanitizeLines(b.String()))
	case r.Level >= slog.LevelWarn:
		out = command("warning", sanitizeLines(b.String()))
	case r.Level >= slog.LevelInfo:
		out = plainLines(b.String())
	default:
		out = command("debug", sanitizeLines(b.String()))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, out)
	return err
}

// sanitizeLines keeps the line structure of s (LF) and makes every other
// control character, CR included, visible. The command escaping then turns
// the LFs into %0A.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = exchange.Sanitize(l)
	}
	return strings.Join(lines, "\n")
}

// plainLines renders s as inert plain lines, each ending in LF.
func plainLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(inertLine(l))
		b.WriteByte('\n')
	}
	return b.String()
}

// appendAttr writes " key=value" for a, flattening groups into dotted keys
// as slog's text handler does.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return
		}
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, ga := range attrs {
			appendAttr(b, p, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(exchange.Sanitize(prefix + a.Key))
	b.WriteByte('=')
	b.WriteString(quoteValue(attrValue(a.Value)))
}

// attrValue renders a resolved value; errors by their message, times in
// RFC 3339.
func attrValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	default:
		// Every other kind prints as slog prints it.
	}
	return v.String()
}

// quoteValue sanitizes v and quotes it when it is empty or holds a space,
// a quote or "=", so k=v pairs stay unambiguous.
func quoteValue(v string) string {
	v = exchange.Sanitize(v)
	if v != "" && !strings.ContainsAny(v, " \"=") {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}
