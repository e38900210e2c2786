package sharedini

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/ini.v1"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Sections of shared files ([exchange.Section]) are merged with
// gopkg.in/ini.v1, which keeps the other sections and the comments of a
// file when it rewrites it. Its readers and writers differ from the AWS
// SDKs' on a few points, and the rules below keep both reading the same
// thing:
//
//   - The file is read line by line, as the SDKs read it: '#' and ';'
//     inside a value are part of it (IgnoreInlineComment), a trailing '\'
//     joins nothing (IgnoreContinuation), quotes around a value stay
//     (PreserveSurroundedQuote), and an indented line under an empty value
//     is a nested value (AllowNestedValues: "s3 =" then
//     "  max_concurrent_requests = 20").
//   - ini.v1 also reads quoting the SDKs do not know: a value or key in
//     backquotes or triple quotes, a key in double quotes. It would write
//     such a line back without its quotes, changing what the SDKs read, so
//     a file that has any is refused ([errINIQuoting]).
//   - Keys before the first section, or in a [DEFAULT] section, are
//     written back without a header (ini.v1's default section), so a file
//     with such keys is refused.
//   - Our values are written verbatim: ini.v1 adds quotes to a value with
//     a line break, a backquote, a leading `"""` or surrounding white
//     space, and the SDKs strip the quotes around a value that starts and
//     ends with one and cut it at white space followed by '#' or ';' (an
//     inline comment). Values that would change in that way are refused
//     ([checkValue]).
//
// After merging, the result is read again and every other section must
// read as before and ours as written; otherwise nothing is written.
// ini.v1's errors quote the offending line, which may hold a secret of
// the user's, so they are never passed on.

const (
	// MaxFileSize bounds the shared file read and rewritten. AWS
	// config and credentials files are a few KiB; a file of a MiB is not
	// one, and its lines would all be kept in memory twice.
	MaxFileSize = 1 << 20
	// maxSectionName bounds a section name; profile names are short.
	maxSectionName = 256
	// maxSharedFileKind bounds [exchange.Section.File], which becomes part
	// of a file name.
	maxSharedFileKind = 32
)

var (
	// errINIQuoting marks a shared file with quoting that ini.v1 and the
	// AWS SDKs read differently.
	errINIQuoting = errors.New("it uses backquotes, triple quotes or a quoted key name, which the AWS SDKs read " +
		"differently from the INI library; merge by hand or start from a new file")
	// errINIParse marks a shared file ini.v1 cannot read. The library's
	// own message quotes the line, so it is not kept.
	errINIParse = errors.New("it is not an INI file the merge can read (every line must be a [section], " +
		"a key = value pair, an indented nested value or a comment)")
	// errINIGlobalKeys marks keys outside any section.
	errINIGlobalKeys = errors.New("it has keys outside any section or in a [DEFAULT] section, which the merge " +
		"cannot write back as they are")
	// errINIRoundTrip marks a merge whose result does not read back as
	// intended.
	errINIRoundTrip = errors.New("the merged file would not read back with its other sections unchanged")
	// errINIPanic marks a panic inside ini.v1.
	errINIPanic = errors.New("the INI library failed on this file")
)

// SectionExistsError is returned when a section to be written is already
// in the shared file and [exchange.Section.Replace] is not set. It wraps
// [exchange.ErrInvalidInput]: the user picks another profile name or
// allows replacing it.
type SectionExistsError struct {
	// PathEnv is the variable that names the file.
	PathEnv string
	// Path is the file's path as later steps see it.
	Path string
	// Section is the section name without brackets.
	Section string
	// Allow names what lets the section be replaced, as the user types
	// it (--overwrite-profile), for the message; the merge leaves it
	// empty, since only the caller knows the setting's spelling.
	Allow string
}

func (e *SectionExistsError) Error() string {
	allow := "allow replacing it"
	if e.Allow != "" {
		allow = "set " + e.Allow + " to replace it"
	}
	return fmt.Sprintf("%s: %s already has a section [%s]; choose another profile name or %s: %v",
		e.PathEnv, e.Path, e.Section, allow, exchange.ErrInvalidInput)
}

// Unwrap makes errors.Is(err, exchange.ErrInvalidInput) true.
func (e *SectionExistsError) Unwrap() error { return exchange.ErrInvalidInput }

// iniOptions are the options every shared file is read with; see the
// comment at the top of this file.
func iniOptions() ini.LoadOptions {
	return ini.LoadOptions{
		IgnoreInlineComment:     true,
		IgnoreContinuation:      true,
		PreserveSurroundedQuote: true,
		AllowNestedValues:       true,
	}
}

// checkSharedFileKind validates [exchange.Section.File]: lower-case
// kebab-case, since it becomes part of a file name.
func checkSharedFileKind(kind string) error {
	ok := kind != "" && len(kind) <= maxSharedFileKind && kind[0] != '-' && kind[len(kind)-1] != '-' && !strings.Contains(kind, "--")
	for i := 0; ok && i < len(kind); i++ {
		c := kind[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("shared file name %q must be lower-case kebab-case of at most %d characters", exchange.Sanitize(kind), maxSharedFileKind)
	}
	return nil
}

// checkName validates a section name: one line of printable text
// that ini.v1 writes as it is and the AWS SDKs read as it is.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("a section name is empty")
	case len(name) > maxSectionName:
		return fmt.Errorf("section name %q is longer than %d bytes", exchange.Sanitize(name[:32])+"…", maxSectionName)
	case !utf8.ValidString(name):
		return fmt.Errorf("section name %q is not valid UTF-8", exchange.Sanitize(name))
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("section name %q contains a control character", exchange.Sanitize(name))
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("section name %q starts or ends with white space", name)
	case strings.ContainsAny(name, "[]"):
		return fmt.Errorf("section name %q contains a bracket", name)
	case strings.ContainsAny(name, "#;"):
		// The SDKs cut a section line at the first '#' or ';'.
		return fmt.Errorf("section name %q contains '#' or ';', where the AWS SDKs see a comment", name)
	case name == ini.DefaultSection:
		// ini.v1 writes its default section without a header.
		return fmt.Errorf("section name %q is reserved by the INI library", name)
	}
	return nil
}

// checkKeyName validates a key name: ^[A-Za-z0-9_.-]+$, and not "-",
// which ini.v1 reads back as an auto-numbered key.
func checkKeyName(name string) bool {
	if name == "" || name == "-" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// checkValue reports why v would not be written verbatim or not
// read back by the AWS SDKs as written; "" when it would. The reason
// never includes the value.
func checkValue(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "is not valid UTF-8"
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "contains a control character or a line break"
	case strings.TrimSpace(v) != v:
		return "starts or ends with white space, which the AWS SDKs trim"
	case strings.Contains(v, "`"), strings.HasPrefix(v, `"""`):
		return "contains a backquote or starts with triple quotes, which the INI library would quote"
	case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]:
		return "starts and ends with a quote, which the AWS SDKs strip"
	case strings.Contains(v, " #"), strings.Contains(v, " ;"):
		return "contains white space followed by '#' or ';', where the AWS SDKs cut an inline comment"
	}
	return ""
}

// CheckSection validates one section before anything is written. Errors
// name the section and key, never a value.
func CheckSection(s exchange.Section) error {
	if err := checkSharedFileKind(s.File); err != nil {
		return err
	}
	if err := checkName(s.Name); err != nil {
		return err
	}
	if len(s.Keys) == 0 {
		return fmt.Errorf("section [%s] has no keys", s.Name)
	}
	seen := make(map[string]bool, len(s.Keys))
	for _, k := range s.Keys {
		if !checkKeyName(k.Name) {
			return fmt.Errorf("key name %q in section [%s] is invalid: it must match ^[A-Za-z0-9_.-]+$", exchange.Sanitize(k.Name), s.Name)
		}
		// The SDKs compare key names case-insensitively.
		l := strings.ToLower(k.Name)
		if seen[l] {
			return fmt.Errorf("key %q is set twice in section [%s]", k.Name, s.Name)
		}
		seen[l] = true
		if why := checkValue(k.Value.Reveal()); why != "" {
			return fmt.Errorf("the value of key %q in section [%s] %s", k.Name, s.Name, why)
		}
	}
	return nil
}

// loadINI reads a shared file's content with [iniOptions], refusing what
// the merge cannot keep as it is.
func loadINI(content []byte) (f *ini.File, err error) {
	if bytes.ContainsRune(content, '`') || bytes.Contains(content, []byte(`"""`)) {
		return nil, errINIQuoting
	}
	for _, line := range bytes.Split(content, []byte("\n")) {
		if t := bytes.TrimLeftFunc(line, unicode.IsSpace); len(t) > 0 && t[0] == '"' {
			return nil, errINIQuoting
		}
	}
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errINIPanic
		}
	}()
	f, err = ini.LoadSources(iniOptions(), content)
	if err != nil {
		return nil, errINIParse
	}
	for _, sec := range f.Sections() {
		for _, k := range sec.KeyStrings() {
			if strings.ContainsAny(k, "\"`") {
				return nil, errINIQuoting
			}
		}
	}
	if len(f.Section(ini.DefaultSection).Keys()) > 0 {
		return nil, errINIGlobalKeys
	}
	return f, nil
}

// writeINI renders f, turning a panic inside ini.v1 into an error.
func writeINI(f *ini.File) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errINIPanic
		}
	}()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("rendering the INI file: %w", err)
	}
	return buf.Bytes(), nil
}

// Key is one key of a section as the merge reads it.
type Key struct {
	// Name is the key's name.
	Name string
	// Value is its value, verbatim; it may be a secret.
	Value string
	// Nested are the indented values under an empty one (an "s3 ="
	// block).
	Nested []string
}

// readSections maps each section of f to its keys, in order.
func readSections(f *ini.File) map[string][]Key {
	out := map[string][]Key{}
	for _, sec := range f.Sections() {
		keys := []Key{}
		for _, k := range sec.Keys() {
			keys = append(keys, Key{Name: k.Name(), Value: k.Value(), Nested: k.NestedValues()})
		}
		out[sec.Name()] = keys
	}
	return out
}

// sameKeys reports whether a and b hold the same keys, values and nested
// values in the same order.
func sameKeys(a, b []Key) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Value != b[i].Value || strings.Join(a[i].Nested, "\n") != strings.Join(b[i].Nested, "\n") ||
			len(a[i].Nested) != len(b[i].Nested) {
			return false
		}
	}
	return true
}

// verifyINI reads out again and checks that every section of want reads
// the same from it and that it has no other section.
func verifyINI(out []byte, want map[string][]Key) error {
	f, err := loadINI(out)
	if err != nil {
		return errors.Join(errINIRoundTrip, err)
	}
	got := readSections(f)
	if len(got) != len(want) {
		return errINIRoundTrip
	}
	for name, keys := range want {
		if g, ok := got[name]; !ok || !sameKeys(keys, g) {
			return errINIRoundTrip
		}
	}
	return nil
}

// Merge merges sections into content, the current text of a
// shared file (nil when there is none). A section that is already there is
// replaced in place, keeping its comment, when it may be replaced; else
// Merge returns a [*SectionExistsError] naming it with pathEnv
// and path. Sections must have passed [CheckSection]; their names are
// distinct.
func Merge(content []byte, sections []exchange.Section, pathEnv, path string) ([]byte, error) {
	f, err := loadINI(content)
	if err != nil {
		return nil, err
	}
	want := readSections(f)
	for _, s := range sections {
		sec, err := f.GetSection(s.Name)
		if err == nil {
			if !s.Replace {
				return nil, &SectionExistsError{PathEnv: pathEnv, Path: path, Section: s.Name}
			}
			// Drop the old keys, with their comments, and keep the
			// section where it is, with the comment above it.
			for _, k := range sec.KeyStrings() {
				sec.DeleteKey(k)
			}
		} else if sec, err = f.NewSection(s.Name); err != nil {
			return nil, fmt.Errorf("adding section [%s]: %w", s.Name, err)
		}
		keys := make([]Key, 0, len(s.Keys))
		for _, k := range s.Keys {
			if _, err := sec.NewKey(k.Name, k.Value.Reveal()); err != nil {
				return nil, fmt.Errorf("adding key %q to section [%s]: %w", k.Name, s.Name, err)
			}
			keys = append(keys, Key{Name: k.Name, Value: k.Value.Reveal()})
		}
		want[s.Name] = keys
	}
	out, err := writeINI(f)
	if err != nil {
		return nil, err
	}
	if err := verifyINI(out, want); err != nil {
		return nil, err
	}
	return out, nil
}

// Remove removes the named sections from content, the current
// text of a shared file. Comments written above or inside a removed
// section stay, after the section before it. It reports whether anything
// was removed and whether the file is left without any section or key.
func Remove(content []byte, names []string) (out []byte, removed, empty bool, err error) {
	f, err := loadINI(content)
	if err != nil {
		return nil, false, false, err
	}
	want := readSections(f)
	for _, name := range names {
		if name == ini.DefaultSection || !f.HasSection(name) {
			continue
		}
		keepComments(f, name)
		f.DeleteSection(name)
		delete(want, name)
		removed = true
	}
	if !removed {
		return content, false, false, nil
	}
	empty = len(f.SectionStrings()) == 1 && len(f.Section(ini.DefaultSection).Keys()) == 0
	out, err = writeINI(f)
	if err != nil {
		return nil, false, false, err
	}
	if err := verifyINI(out, want); err != nil {
		return nil, false, false, err
	}
	return out, true, empty, nil
}

// keepComments moves the comments of section name (above it, on its
// keys, after it) to the end of the section before it, so that removing
// the section removes no one's comments. Comments above a section are
// often someone else's: ini.v1 attaches the comments at the end of a file
// to the section after them once another one is appended.
func keepComments(f *ini.File, name string) {
	names := f.SectionStrings()
	sec := f.Section(name)
	var prev *ini.Section
	for i, n := range names {
		if n == name && i > 0 {
			prev = f.Section(names[i-1])
			break
		}
	}
	if prev == nil {
		return
	}
	var lines []string
	add := func(c string) {
		for _, l := range strings.Split(c, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	add(prev.TrailingComment)
	add(sec.Comment)
	for _, k := range sec.Keys() {
		add(k.Comment)
	}
	add(sec.TrailingComment)
	prev.TrailingComment = strings.Join(lines, ini.LineBreak)
}
