package github

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// File commands are the files the runner creates for each step and parses
// after the step ends (FileCommandManager.cs). Each entry is written in the
// heredoc form the runner's EnvFileKeyValuePairs parser reads:
//
//	NAME<<DELIMITER{EOL}VALUE{EOL}DELIMITER{EOL}
//
// The parser takes NAME as everything before the first "<<", reads lines
// until one equals DELIMITER exactly, and returns the text in between minus
// the final line ending. A value can therefore hold any text except a line
// equal to the delimiter; we refuse any value that contains it at all.
//
// EOL is the runner's: LF on Linux and macOS. On Windows the runner ends a
// line at CRLF or LF, whichever comes first, so a value ending in CR
// followed by an LF would lose its CR; written with CRLF, as
// actions/toolkit writes os.EOL, every value round-trips (see [lineEnding]).

const (
	// delimiterPrefix matches actions/toolkit's file-command.ts, so step
	// debug logs look familiar.
	delimiterPrefix = "ghadelimiter_"
	// delimiterBytes is 128 bits: a value cannot contain a delimiter it
	// could not have known when it was produced.
	delimiterBytes = 16
	// delimiterAttempts bounds regeneration after a collision. With
	// crypto/rand a second attempt never happens by chance; a value that
	// collides three times was built to, or the random source is broken.
	delimiterAttempts = 3
	// nodeOptions is refused in GITHUB_ENV by the runner; we refuse it
	// first so the failure is ours and explicit rather than a runner
	// warning after the step.
	nodeOptions = "NODE_OPTIONS"
)

// fileKind names one of the file commands.
type fileKind int

const (
	kindEnv fileKind = iota
	kindOutput
	kindState
)

// variable is the environment variable holding the file's path.
func (k fileKind) variable() string {
	switch k {
	case kindEnv:
		return "GITHUB_ENV"
	case kindOutput:
		return "GITHUB_OUTPUT"
	default:
		return "GITHUB_STATE"
	}
}

// noun names the entries of the file in messages.
func (k fileKind) noun() string {
	switch k {
	case kindEnv:
		return "environment variable"
	case kindOutput:
		return "output"
	default:
		return "state key"
	}
}

type entry struct {
	name  string
	value string
}

// batch is the entries for one file.
type batch struct {
	kind    fileKind
	entries []entry
}

// validName checks a file-command name: ^[A-Za-z_][A-Za-z0-9_]*$, plus '-'
// after the first character when allowHyphen is set (step outputs are
// referenced as steps.<id>.outputs.<name>, where hyphens are legal).
// Neither form can contain "=" or "<<", which the runner's parser would
// split on, nor a line break.
func validName(name string, allowHyphen bool) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case i > 0 && '0' <= c && c <= '9':
		case i > 0 && allowHyphen && c == '-':
		default:
			return false
		}
	}
	return true
}

// checkNames validates the names of one batch: their syntax, NODE_OPTIONS
// and duplicates (the runner would silently keep the last one).
func checkNames(b batch) error {
	seen := make(map[string]bool, len(b.entries))
	for _, e := range b.entries {
		if !validName(e.name, b.kind == kindOutput) {
			want := "^[A-Za-z_][A-Za-z0-9_]*$"
			if b.kind == kindOutput {
				want = "^[A-Za-z_][A-Za-z0-9_-]*$"
			}
			return fmt.Errorf("%s name %q is invalid: it must match %s", b.kind.noun(), e.name, want)
		}
		if b.kind == kindEnv && strings.EqualFold(e.name, nodeOptions) {
			return fmt.Errorf("refusing to set %s: the runner does not allow it in GITHUB_ENV", e.name)
		}
		// Outputs and state keys are looked up case-insensitively by the
		// runner; environment variables are case-sensitive on Linux.
		key := e.name
		if b.kind != kindEnv {
			key = strings.ToLower(key)
		}
		if seen[key] {
			return fmt.Errorf("%s %q is set twice", b.kind.noun(), e.name)
		}
		seen[key] = true
	}
	return nil
}

// checkBatch validates a batch without rendering it: its names (see
// checkNames) and that every value is valid UTF-8. Only the delimiter
// check is left to rendering, since it needs the random delimiter.
func checkBatch(b batch) error {
	if err := checkNames(b); err != nil {
		return err
	}
	for _, e := range b.entries {
		if !utf8.ValidString(e.value) {
			return fmt.Errorf("value of %q is not valid UTF-8", e.name)
		}
	}
	return nil
}

// newDelimiter reads 128 bits from random.
func newDelimiter(random io.Reader) (string, error) {
	var b [delimiterBytes]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for a heredoc delimiter: %w", err)
	}
	return delimiterPrefix + hex.EncodeToString(b[:]), nil
}

// errDelimiterCollision is returned for a value that contains every
// delimiter tried. It never carries the value.
var errDelimiterCollision = errors.New("value contains the heredoc delimiter")

// lineEnding is the line ending the runner on this platform parses
// file commands with best: CRLF on Windows, LF elsewhere.
func lineEnding(goos string) string {
	if goos == "windows" {
		return "\r\n"
	}
	return "\n"
}

// heredoc formats one entry with a fresh random delimiter and the given
// line ending. The name must already be valid. The value must be valid
// UTF-8: the runner decodes the file as UTF-8, so other bytes would not
// round-trip.
func heredoc(name, value, eol string, random io.Reader) (string, error) {
	if !utf8.ValidString(value) {
		return "", fmt.Errorf("value of %q is not valid UTF-8", name)
	}
	for range delimiterAttempts {
		d, err := newDelimiter(random)
		if err != nil {
			return "", err
		}
		if strings.Contains(value, d) || strings.Contains(name, d) {
			continue
		}
		var b strings.Builder
		b.Grow(len(name) + len(value) + 2*len(d) + 2 + 3*len(eol))
		b.WriteString(name)
		b.WriteString("<<")
		b.WriteString(d)
		b.WriteString(eol)
		b.WriteString(value)
		b.WriteString(eol)
		b.WriteString(d)
		b.WriteString(eol)
		return b.String(), nil
	}
	return "", fmt.Errorf("refusing to write %q after %d random delimiters: %w", name, delimiterAttempts, errDelimiterCollision)
}

// payload validates a batch and renders it with the line ending eol.
func payload(b batch, eol string, random io.Reader) ([]byte, error) {
	if err := checkNames(b); err != nil {
		return nil, err
	}
	var out []byte
	for _, e := range b.entries {
		s, err := heredoc(e.name, e.value, eol, random)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// openCommandFile opens the file named by variable for appending.
//
// It does not pass O_CREATE. The runner creates a fresh file per step
// before the container starts; a path that does not exist means the
// variable is wrong, and creating it as root at an arbitrary path would
// leave credentials where no later step looks for them and nothing cleans
// them up. actions/toolkit also refuses a missing file. go-githubactions
// does create it (mode 0644), one more reason not to use its writers.
//
// The file must be a regular file: a GITHUB_ENV pointing at /dev/stdout or
// a FIFO would print the credentials or block.
func openCommandFile(getenv func(string) string, variable string) (*os.File, error) {
	p := getenv(variable)
	if p == "" {
		return nil, fmt.Errorf("%s is not set: oidc-exchange needs GitHub Actions runner v2.297.0 or later", variable)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s is not a regular file", variable, p)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", variable, err)
	}
	// Stat again through the descriptor: the path could have been
	// swapped between the checks.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %s is not a regular file", variable, p)
	}
	return f, nil
}

// writeFileCommands writes every batch or, as far as the file system
// allows, none. It renders and validates everything in memory, then opens
// every file, and only then appends each file's payload with one write, so
// a bad name, a collision or a missing file leaves all files untouched. A
// write that fails half-way (disk full) cannot be undone; the runner then
// rejects the truncated heredoc and fails the step. Batches are written in
// the order given. The caller holds e.mu.
func (e *Edge) writeFileCommands(batches []batch) error {
	payloads := make([][]byte, len(batches))
	for i, b := range batches {
		p, err := payload(b, e.eol, e.random)
		if err != nil {
			return err
		}
		payloads[i] = p
	}
	files := make([]*os.File, len(batches))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, b := range batches {
		f, err := openCommandFile(e.getenv, b.kind.variable())
		if err != nil {
			return err
		}
		files[i] = f
	}
	for i, b := range batches {
		if _, err := files[i].Write(payloads[i]); err != nil {
			return fmt.Errorf("writing %s: %w", b.kind.variable(), err)
		}
		err := files[i].Close()
		files[i] = nil
		if err != nil {
			return fmt.Errorf("closing %s: %w", b.kind.variable(), err)
		}
	}
	return nil
}
