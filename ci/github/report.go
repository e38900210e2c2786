package github

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

const (
	// auditGroup titles the log group holding the audit record.
	auditGroup = "oidc-exchange audit record"
	// maxSummarySize is the runner's limit for one step's summary: above
	// 1 MiB it drops the whole summary with a warning, so an append that
	// would cross it would lose everything written before.
	maxSummarySize = 1 << 20
	// legacyCommandPrefix is the runner's old command syntax, still parsed
	// anywhere in a line (ActionCommand.TryParse).
	legacyCommandPrefix = "##["
)

// Report implements [exchange.Reporter]. It prints the record as one JSON
// line inside a log group:
//
//	::group::oidc-exchange audit record
//	{"schema":"oidc-exchange/audit/v1",...}
//	::endgroup::
//
// and appends [exchange.AuditRecord.Markdown] to the file named by
// GITHUB_STEP_SUMMARY. Without that variable (runners before v2.288.0) the
// summary is skipped with a warning, as it is when it would push the
// summary past the runner's 1 MiB limit.
//
// Claim values in the record are attacker-influenced. JSON escaping keeps
// them on one line that starts with "{"; "##[" is written as "##\u005b" so
// the runner's legacy parser cannot find a command in it either.
func (e *Edge) Report(_ context.Context, rec *exchange.AuditRecord) error {
	if rec == nil {
		return errors.New("no audit record to report")
	}
	var b bytes.Buffer
	b.WriteString(command("group", auditGroup))
	b.Write(inertJSON(rec.JSON()))
	b.WriteByte('\n')
	b.WriteString(command("endgroup", ""))
	if err := e.write(b.Bytes()); err != nil {
		return fmt.Errorf("printing the audit record: %w", err)
	}
	return e.appendSummary(rec.Markdown())
}

// appendSummary appends md to the step summary within the runner's limit.
func (e *Edge) appendSummary(md string) error {
	if e.getenv("GITHUB_STEP_SUMMARY") == "" {
		e.logger.Warn("GITHUB_STEP_SUMMARY is not set, so no job summary is written (it needs runner v2.288.0 or later)")
		return nil
	}
	e.mu.Lock()
	appended, size, err := e.appendSummaryLocked(md)
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("writing the job summary: %w", err)
	}
	if !appended {
		e.logger.Warn("not adding the audit record to the job summary: it would exceed the runner's 1 MiB limit",
			"summary_bytes", size, "record_bytes", len(md))
	}
	return nil
}

// appendSummaryLocked appends md unless the summary would pass the limit,
// and reports whether it did and the summary's size before. The caller
// holds e.mu.
func (e *Edge) appendSummaryLocked(md string) (appended bool, size int64, err error) {
	f, err := openCommandFile(e.getenv, "GITHUB_STEP_SUMMARY")
	if err != nil {
		return false, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false, 0, err
	}
	if fi.Size()+int64(len(md)) > maxSummarySize {
		f.Close()
		return false, fi.Size(), nil
	}
	if _, err := io.WriteString(f, md); err != nil {
		f.Close()
		return false, fi.Size(), err
	}
	return true, fi.Size(), f.Close()
}

// command renders one workflow command line with go-githubactions'
// escaping of the data (% CR LF), newline included.
func command(name, data string) string {
	return (&githubactions.Command{Name: name, Message: data}).String() + "\n"
}

// inertJSON makes a compact JSON line safe to print: encoding/json already
// escapes every control character and U+2028/U+2029, so the line cannot
// break and starts with "{"; a "##[" can only occur inside a string, where
// "\u005b" is an equivalent spelling of "[".
func inertJSON(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(legacyCommandPrefix), []byte(`##\u005b`))
}

// isRunnerSpace reports the characters the runner's TrimStart removes
// before looking for "::" (.NET char.IsWhiteSpace, which matches
// unicode.IsSpace), plus characters older .NET versions also trimmed, to
// err on the safe side.
func isRunnerSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' || r == '\u180e'
}

// inertLine makes one line of untrusted text safe to print as a plain log
// line. It sanitizes control characters (so the text cannot break the
// line, also at CR, where the runner splits too), defuses the legacy
// "##[" prefix, and puts a backslash before a leading "::".
func inertLine(s string) string {
	s = exchange.Sanitize(s)
	s = strings.ReplaceAll(s, legacyCommandPrefix, `##\[`)
	if strings.HasPrefix(strings.TrimLeftFunc(s, isRunnerSpace), "::") {
		s = `\` + s
	}
	return s
}

// PrintUntrusted prints text — possibly many lines, possibly crafted —
// so that the runner processes none of it as a workflow command. It wraps
// the text in ::stop-commands::TOKEN and ::TOKEN::, where TOKEN is 128
// random bits read from random (crypto/rand when nil): while commands are
// stopped the runner acts only on the line that names the token, which the
// text cannot know. The text is printed verbatim otherwise, so use this for
// output that must stay byte-exact (a policy document, a diff); use
// [exchange.Sanitize] for single values.
func PrintUntrusted(w io.Writer, text string, random io.Reader) error {
	if random == nil {
		random = rand.Reader
	}
	var token string
	for range delimiterAttempts {
		var b [delimiterBytes]byte
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return fmt.Errorf("reading random bytes for a stop-commands token: %w", err)
		}
		if t := hex.EncodeToString(b[:]); !strings.Contains(strings.ToLower(text), t) {
			token = t
			break
		}
	}
	if token == "" {
		return errors.New("the text contains every stop-commands token tried")
	}
	var b strings.Builder
	b.WriteString(command("stop-commands", token))
	b.WriteString(text)
	if text != "" && !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString("::" + token + "::\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("printing untrusted text: %w", err)
	}
	return nil
}
