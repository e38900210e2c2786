package plan

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Independent readers of what the planner writes: a POSIX shell (the real
// one), and small unquoters for HCL and CEL string literals, so that tests
// compare decoded values rather than the encoder's own output.

// shellCommand is one command line a stub recorded: its name and argv.
type shellCommand struct {
	name string
	args []string
}

// flags returns the --name=value and --name value arguments by name.
func (c shellCommand) flags() map[string]string {
	m := map[string]string{}
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			m[k] = v
			continue
		}
		if i+1 < len(c.args) {
			m[a] = c.args[i+1]
			i++
		}
	}
	return m
}

// positional returns the arguments that are neither flags nor flag values.
func (c shellCommand) positional() []string {
	var out []string
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if strings.HasPrefix(a, "--") {
			if !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// runShell runs script with stub functions named after commands that
// record their argv instead of running, and returns the recorded calls.
func runShell(t *testing.T, script string, commands ...string) []shellCommand {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no POSIX shell:", err)
	}
	var stubs strings.Builder
	stubs.WriteString("set -eu\n")
	for _, c := range commands {
		fmt.Fprintf(&stubs, "%s() { printf '%%s\\0' '@@CMD' %s \"$@\"; }\n", c, c)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), sh, "-c", stubs.String()+script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sh: %v\nstderr: %s\nscript:\n%s", err, stderr.String(), script)
	}
	if stderr.Len() > 0 {
		t.Fatalf("sh wrote to stderr: %s\nscript:\n%s", stderr.String(), script)
	}
	var calls []shellCommand
	fields := strings.Split(strings.TrimSuffix(stdout.String(), "\x00"), "\x00")
	for i := 0; i < len(fields); i++ {
		if fields[i] != "@@CMD" || i+1 >= len(fields) {
			t.Fatalf("unexpected shell output %q", stdout.String())
		}
		c := shellCommand{name: fields[i+1]}
		i += 2
		for i < len(fields) && fields[i] != "@@CMD" {
			c.args = append(c.args, fields[i])
			i++
		}
		i--
		calls = append(calls, c)
	}
	return calls
}

// hclUnquote decodes one HCL quoted string literal (no interpolation), as
// HCL would: escapes, and "$${" and "%%{" meaning literal "${" and "%{".
// It fails on an unescaped "${" or "%{", which would start a template.
func hclUnquote(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", fmt.Errorf("not a quoted string: %s", lit)
	}
	s := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"), strings.HasPrefix(s[i:], "%%{"):
			b.WriteString(s[i+1 : i+3])
			i += 3
		case strings.HasPrefix(s[i:], "${"), strings.HasPrefix(s[i:], "%{"):
			return "", fmt.Errorf("unescaped template sequence in %s", lit)
		case s[i] == '"':
			return "", fmt.Errorf("unescaped quote in %s", lit)
		case s[i] == '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("dangling backslash in %s", lit)
			}
			switch s[i+1] {
			case '\\', '"':
				b.WriteByte(s[i+1])
				i += 2
			case 'n':
				b.WriteByte('\n')
				i += 2
			case 'r':
				b.WriteByte('\r')
				i += 2
			case 't':
				b.WriteByte('\t')
				i += 2
			case 'u':
				n, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
				if err != nil {
					return "", err
				}
				b.WriteRune(rune(n))
				i += 6
			default:
				return "", fmt.Errorf("unknown escape in %s", lit)
			}
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += size
		}
	}
	return b.String(), nil
}

// hclStrings returns the quoted string literals on one line of HCL.
func hclStrings(line string) []string {
	var out []string
	for i := 0; i < len(line); i++ {
		if line[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' {
				j++
			}
			j++
		}
		out = append(out, line[i:min(j+1, len(line))])
		i = j
	}
	return out
}

// celUnquote decodes one single-quoted CEL string literal and returns the
// rest of the input after it.
func celUnquote(s string) (value, rest string, err error) {
	if s == "" || s[0] != '\'' {
		return "", "", fmt.Errorf("not a CEL string: %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); {
		switch s[i] {
		case '\'':
			return b.String(), s[i+1:], nil
		case '\n', '\r':
			return "", "", fmt.Errorf("raw newline in CEL string %q", s)
		case '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("dangling backslash")
			}
			switch c := s[i+1]; c {
			case '\\', '\'', '"', '`', '?':
				b.WriteByte(c)
				i += 2
			case 'n':
				b.WriteByte('\n')
				i += 2
			case 'r':
				b.WriteByte('\r')
				i += 2
			case 't':
				b.WriteByte('\t')
				i += 2
			case 'u':
				n, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
				if err != nil {
					return "", "", err
				}
				b.WriteRune(rune(n))
				i += 6
			default:
				return "", "", fmt.Errorf("unsupported escape \\%c", c)
			}
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r)
			i += size
		}
	}
	return "", "", fmt.Errorf("unterminated CEL string %q", s)
}

// celClause is one `assertion.X == 'v'` or `assertion.X.startsWith('v')`
// or `assertion.X != 'v'` term of a condition made of && conjunctions.
type celClause struct {
	attr, op, value string
}

// parseCELConjunction reads the conditions the planner writes: terms of
// the shapes above joined by " && ". It is deliberately strict, so a
// quoting bug (an unescaped quote ending a literal early) fails the parse.
func parseCELConjunction(cond string) ([]celClause, error) {
	var out []celClause
	rest := cond
	for {
		if !strings.HasPrefix(rest, "assertion.") {
			return nil, fmt.Errorf("term does not start with assertion.: %q", rest)
		}
		rest = rest[len("assertion."):]
		i := strings.IndexAny(rest, " .")
		if i < 0 {
			return nil, fmt.Errorf("truncated term %q", rest)
		}
		c := celClause{attr: rest[:i]}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, " == "):
			c.op, rest = "==", rest[4:]
		case strings.HasPrefix(rest, " != "):
			c.op, rest = "!=", rest[4:]
		case strings.HasPrefix(rest, ".startsWith("):
			c.op, rest = "startsWith", rest[len(".startsWith("):]
		default:
			return nil, fmt.Errorf("unknown operator at %q", rest)
		}
		v, r, err := celUnquote(rest)
		if err != nil {
			return nil, err
		}
		c.value, rest = v, r
		if c.op == "startsWith" {
			if !strings.HasPrefix(rest, ")") {
				return nil, fmt.Errorf("unclosed startsWith at %q", rest)
			}
			rest = rest[1:]
		}
		out = append(out, c)
		if rest == "" {
			return out, nil
		}
		if !strings.HasPrefix(rest, " && ") {
			return nil, fmt.Errorf("expected && at %q", rest)
		}
		rest = rest[4:]
	}
}
