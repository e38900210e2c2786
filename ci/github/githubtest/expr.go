package githubtest

import (
	"fmt"
	"regexp"
	"strings"
)

// expand evaluates the "${{ context.name }}" expressions in s, the only
// expression shape the simulation supports; lookup resolves a context and
// name. Anything else is an error rather than a silent empty string, so a
// test cannot believe it exercised an expression it did not.
func expand(s string, lookup func(context, name string) (string, error)) (string, error) {
	re := regexp.MustCompile(`^\s*([A-Za-z_]+)\.([A-Za-z0-9_-]+)\s*$`)
	var b strings.Builder
	for {
		open := strings.Index(s, "${{")
		if open < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		closing := strings.Index(s[open:], "}}")
		if closing < 0 {
			return "", fmt.Errorf("unterminated expression in %q", s)
		}
		expr := s[open+3 : open+closing]
		m := re.FindStringSubmatch(expr)
		if m == nil {
			return "", fmt.Errorf("unsupported expression %q: only ${{ context.name }} is simulated", strings.TrimSpace(expr))
		}
		v, err := lookup(strings.ToLower(m[1]), m[2])
		if err != nil {
			return "", err
		}
		b.WriteString(s[:open])
		b.WriteString(v)
		s = s[open+closing+2:]
	}
}

// dockerArgs reproduces how runs.args reach the entrypoint: the runner
// joins them as ` "arg"` with `"` escaped as `\"` (ContainerActionHandler)
// and .NET's Process splits that string back into argv with
// CommandLineToArgvW rules before docker passes it on. A backslash before
// a quote therefore does not survive unchanged, as on a real runner.
func dockerArgs(args []string) []string {
	var line strings.Builder
	for _, a := range args {
		line.WriteString(` "` + strings.ReplaceAll(a, `"`, `\"`) + `"`)
	}
	return parseArgumentsIntoList(line.String())
}

// parseArgumentsIntoList is .NET's Process.ParseArgumentsIntoList.
func parseArgumentsIntoList(s string) []string {
	out := []string{}
	for i := 0; i < len(s); i++ {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		out = append(out, nextArgument(s, &i))
	}
	return out
}

func nextArgument(s string, i *int) string {
	var b strings.Builder
	inQuotes := false
	for *i < len(s) {
		backslashes := 0
		for *i < len(s) && s[*i] == '\\' {
			*i++
			backslashes++
		}
		if backslashes > 0 {
			if *i >= len(s) || s[*i] != '"' {
				b.WriteString(strings.Repeat(`\`, backslashes))
			} else {
				b.WriteString(strings.Repeat(`\`, backslashes/2))
				if backslashes%2 != 0 {
					b.WriteByte('"')
					*i++
				}
			}
			continue
		}
		c := s[*i]
		if c == '"' {
			if inQuotes && *i < len(s)-1 && s[*i+1] == '"' {
				b.WriteByte('"')
				*i++
			} else {
				inQuotes = !inQuotes
			}
			*i++
			continue
		}
		if (c == ' ' || c == '\t') && !inQuotes {
			break
		}
		b.WriteByte(c)
		*i++
	}
	return b.String()
}
