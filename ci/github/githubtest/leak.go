package githubtest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// minFormLen is the shortest derived form (a line, a base64 fragment) the
// leak check looks for; shorter ones, like the "{" line of pretty JSON,
// would match innocent output.
const minFormLen = 8

// leakForm is one way a secret can appear.
type leakForm struct {
	kind  string
	value string
}

// leakForms returns the strings whose presence reveals secret, each with
// a description: the value, each trimmed line of a multi-line value, its
// base64 and base64url encodings (also embedded at any byte alignment in a
// larger encoded blob), its JSON string escapes (Go's and the runner's),
// its URL encodings and its hex encodings. Derived forms shorter than
// minFormLen are left out.
func leakForms(secret string) []leakForm {
	var out []leakForm
	seen := map[string]bool{}
	add := func(kind, v string, minLen int) {
		if len(v) >= minLen && !seen[v] {
			seen[v] = true
			out = append(out, leakForm{kind, v})
		}
	}
	add("value", secret, 1)
	if strings.ContainsAny(secret, "\r\n") {
		for i, line := range SplitLines([]byte(secret)) {
			add(fmt.Sprintf("line %d", i+1), strings.TrimSpace(line), minFormLen)
		}
	}
	for _, enc := range []struct {
		kind string
		enc  *base64.Encoding
	}{{"base64", base64.RawStdEncoding}, {"base64url", base64.RawURLEncoding}} {
		for shift := range 3 {
			core := base64Core(enc.enc, secret, shift)
			kind := enc.kind
			if shift > 0 {
				kind = fmt.Sprintf("%s at byte offset %d", enc.kind, shift)
			}
			add(kind, core, minFormLen)
		}
	}
	goJSON, _ := json.Marshal(secret)
	add("JSON-escaped (Go)", string(goJSON[1:len(goJSON)-1]), minFormLen)
	add("JSON-escaped", newtonsoftEscape(secret), minFormLen)
	add("URL-encoded", uriDataEscape(secret), minFormLen)
	add("URL-encoded (form)", url.QueryEscape(secret), minFormLen)
	add("hex", hex.EncodeToString([]byte(secret)), minFormLen)
	add("HEX", strings.ToUpper(hex.EncodeToString([]byte(secret))), minFormLen)
	return out
}

// base64Core is the part of the encoding of secret that does not depend on
// its neighbours when it sits shift bytes (mod 3) into a larger encoded
// blob: characters mixing bits of the prefix or of what follows are cut.
func base64Core(enc *base64.Encoding, secret string, shift int) string {
	b := append(make([]byte, shift), secret...)
	s := enc.EncodeToString(b)
	drop := [3]int{0, 2, 3}[shift] // characters touching the prefix
	if len(b)%3 != 0 && len(s) > 0 {
		s = s[:len(s)-1] // the last character mixes in the next byte
	}
	if len(s) <= drop {
		return ""
	}
	return s[drop:]
}

// WithFiles returns res with extra files (an audit log, a credentials
// file the test expects to be redacted) that AssertNoLeak must also find
// free of secrets. Container paths are mapped to the host by the caller.
func (res *StepResult) WithFiles(paths ...string) *StepResult {
	c := *res
	c.files = append(append([]string(nil), res.files...), paths...)
	return &c
}

// AssertNoLeak fails the test for every place a secret (in any of its
// [leakForms]) appears where the runner or a later reader would reveal it:
//
//   - a stdout line the runner displays, unless masks registered before
//     it (by earlier steps or earlier stdout lines) cover that occurrence
//     entirely; the add-mask lines themselves are exempt;
//   - any stderr line, masked or not, because stderr is processed before
//     stdout and a mask on stdout cannot be relied on to precede it;
//   - the step summary, GITHUB_STATE and GITHUB_PATH;
//   - an output, unless its whole value is one of the secrets (an output
//     that carries a credential on purpose);
//   - GITHUB_ENV and GITHUB_OUTPUT anywhere except inside a value (an
//     output's value is checked as above, an env value may hold secrets);
//   - the files given to [StepResult.WithFiles].
//
// Failure messages describe the place and the form, never the secret.
func (res *StepResult) AssertNoLeak(t testing.TB, secrets ...string) {
	t.Helper()
	for i, s := range secrets {
		if s == "" {
			t.Fatalf("AssertNoLeak: secret #%d is empty", i+1)
		}
	}
	for _, f := range res.leaks(secrets) {
		t.Errorf("%s step: %s", res.Stage, f)
	}
}

// leaks returns one description per leak found.
func (res *StepResult) leaks(secrets []string) []string {
	type secretForms struct {
		idx   int
		forms []leakForm
	}
	all := make([]secretForms, 0, len(secrets))
	for i, s := range secrets {
		all = append(all, secretForms{i + 1, leakForms(s)})
	}
	var found []string
	// find reports the first unhidden occurrence of each secret in text;
	// hidden decides whether an occurrence is masked.
	find := func(where, text string, hidden func(start, end int) bool) {
		for _, sf := range all {
			if kind, ok := firstOccurrence(text, sf.forms, hidden); ok {
				found = append(found, fmt.Sprintf("secret #%d appears (%s) in %s", sf.idx, kind, where))
			}
		}
	}
	strict := func(int, int) bool { return false }

	for _, l := range res.lines {
		where := fmt.Sprintf("%s line %d", l.stream, l.no)
		if l.stream == Stderr {
			find(where+" (stderr must never carry a secret)", l.text, strict)
			continue
		}
		if l.cmd != nil && strings.EqualFold(l.cmd.Name, "add-mask") {
			continue
		}
		ranges := res.view.ranges(l.maskN, l.text)
		find(where+" (not masked at that point)", l.text, func(s, e int) bool { return covered(ranges, s, e) })
		if l.cmd != nil {
			// Annotations display unescaped data and properties.
			texts := []string{l.cmd.Data}
			for _, v := range l.cmd.Properties {
				texts = append(texts, v)
			}
			for _, text := range texts {
				rs := res.view.ranges(l.maskN, text)
				find(where+" (command text, not masked at that point)", text, func(s, e int) bool { return covered(rs, s, e) })
			}
		}
	}
	find("the step summary", res.Summary, strict)
	find("GITHUB_STATE", res.stateText, strict)
	find("GITHUB_PATH", res.pathText, strict)
	for name, value := range res.Outputs {
		find(fmt.Sprintf("the name of output %q", name), name, strict)
		if !slices.Contains(secrets, value) {
			find(fmt.Sprintf("output %q", name), value, strict)
		}
	}
	// The file-command files: blank out values (checked above, or allowed
	// for env), check what is left: names, heredoc delimiters, anything
	// the runner could not parse.
	find("GITHUB_ENV outside a variable's value", outsideValues(res.envText, res.envEntries), strict)
	find("GITHUB_OUTPUT outside an output's value", outsideValues(res.outText, res.outEntries), strict)
	for _, p := range res.files {
		b, err := os.ReadFile(p)
		if err != nil {
			found = append(found, fmt.Sprintf("cannot read %s to check it: %v", p, err))
			continue
		}
		find(p, string(b), strict)
	}
	return found
}

// outsideValues returns text with every entry's value replaced by line
// breaks, so nothing can match across a removed value.
func outsideValues(text string, entries []envEntry) string {
	rest := []byte(text)
	for _, e := range entries {
		for i := e.start; i < e.end && i < len(rest); i++ {
			rest[i] = '\n'
		}
	}
	return string(rest)
}

// firstOccurrence returns the kind of the first form with an occurrence in
// text that hidden does not excuse.
func firstOccurrence(text string, forms []leakForm, hidden func(start, end int) bool) (string, bool) {
	for _, f := range forms {
		for _, i := range indexAll(text, f.value) {
			if !hidden(i, i+len(f.value)) {
				return f.kind, true
			}
		}
	}
	return "", false
}

// AssertNoInjectedCommands fails the test for every workflow command the
// runner processed whose name (case-insensitive) is not allowed, such as a
// ::set-output:: or ::add-mask:: smuggled in through a claim value or an
// upstream error message.
func (res *StepResult) AssertNoInjectedCommands(t testing.TB, allowed ...string) {
	t.Helper()
	for _, c := range res.Commands {
		if !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, c.Name) }) {
			t.Errorf("%s step: %s line %d: the runner processed a %q workflow command (legacy form: %v); allowed: %q",
				res.Stage, c.Stream, c.Line, c.Name, c.Legacy, allowed)
		}
	}
}
