package input

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// FlagSet binds the settings of one or more tables to a flag set and
// collects their raw values, which [FlagSet.Source] hands to [Apply]:
// the flags parse nothing themselves, so a bad value is reported with
// every other one, not as the first flag error.
type FlagSet struct {
	values map[string]func() string
	files  map[string]*string
}

// Bind declares the flags of specs on fs, with help from their doc lines.
// A secret gets only its FileFlag: argv is visible to every process.
// [PrintDefaults] names their values by kind.
func Bind(fs *flag.FlagSet, specs ...[]Spec) *FlagSet {
	b := &FlagSet{values: map[string]func() string{}, files: map[string]*string{}}
	for _, list := range specs {
		for i := range list {
			s := &list[i]
			if s.Flag != "" && !s.Secret {
				v := &flagValue{kind: s.Kind}
				b.values[s.Label()] = v.value
				fs.Var(v, s.Flag, usage(s))
			}
			if s.FileFlag != "" {
				p := new(string)
				b.files[s.Label()] = p
				// The back quotes name the value in the help: "-x-file file".
				fs.StringVar(p, s.FileFlag, "", "`file` holding the "+s.Doc+envNote(s))
			}
		}
	}
	return b
}

// PrintDefaults prints fs's flags as [flag.FlagSet.PrintDefaults] does,
// but names the value of each setting's flag by its [Kind] ("-timeout
// duration"): the flag package calls the value of any flag type it does
// not know "value", and [Bind]'s flags keep the raw text for [Apply].
func PrintDefaults(fs *flag.FlagSet) {
	out := fs.Output()
	var buf strings.Builder
	fs.SetOutput(&buf)
	fs.PrintDefaults()
	fs.SetOutput(out)
	for line := range strings.Lines(buf.String()) {
		// A flag's first line is "  -name value"; its usage lines start
		// with four spaces and a tab.
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			name, _, _ := strings.Cut(strings.TrimSuffix(rest, "\n"), " ")
			if f := fs.Lookup(name); f != nil {
				if v, ok := f.Value.(*flagValue); ok && v.kind != Bool {
					line = "  -" + name + " " + v.kind.valueName() + "\n"
				}
			}
		}
		_, _ = io.WriteString(out, line)
	}
}

// valueName names a flag's value in the help; a Bool flag takes none.
func (k Kind) valueName() string {
	switch k {
	case Text:
		return "text|@file"
	case Lines, List:
		return "value" // the usage says "(repeatable)"
	case Bool:
		return ""
	case Int:
		return "int"
	case Duration:
		return "duration"
	default:
		return "string"
	}
}

func usage(s *Spec) string {
	var b strings.Builder
	b.WriteString(s.Doc)
	switch {
	case s.Required:
		b.WriteString(" (required)")
	case s.Default != "" && s.Default != "false":
		fmt.Fprintf(&b, " (default %s)", s.Default)
	}
	if s.Kind == Lines || s.Kind == List {
		b.WriteString(" (repeatable)")
	}
	if s.Kind == Text {
		b.WriteString("; @FILE reads it from a file")
	}
	b.WriteString(envNote(s))
	return b.String()
}

func envNote(s *Spec) string {
	if len(s.Env) == 0 {
		return ""
	}
	return "; else $" + strings.Join(s.Env, ", $")
}

// Source offers the flags' values to [Apply]. A setting with neither a
// flag nor a file flag is offered only when it has an environment
// fallback; action-only inputs are not offered at all.
func (b *FlagSet) Source() Source {
	return func(s *Spec) (string, bool, error) {
		label := s.Label()
		if p := b.files[label]; p != nil && *p != "" {
			data, err := os.ReadFile(*p)
			if err != nil {
				return "", true, exchange.InputError(label, "%v", err)
			}
			return strings.TrimSpace(string(data)), true, nil
		}
		v := b.values[label]
		if v == nil {
			return "", b.files[label] != nil || len(s.Env) > 0, nil
		}
		val := v()
		if path, ok := strings.CutPrefix(val, "@"); ok && s.Kind == Text {
			data, err := os.ReadFile(path)
			if err != nil {
				return "", true, exchange.InputError(label, "reading %s: %v", path, err)
			}
			val = string(data)
		}
		return val, true, nil
	}
}

// flagValue keeps what the user typed; [Apply] parses it.
type flagValue struct {
	kind Kind
	vals []string
}

func (v *flagValue) String() string { return "" }

func (v *flagValue) Set(s string) error {
	if v.kind == Lines || v.kind == List {
		v.vals = append(v.vals, s)
	} else {
		v.vals = []string{s}
	}
	return nil
}

// IsBoolFlag lets a Bool flag stand alone: --disable-retry means true.
func (v *flagValue) IsBoolFlag() bool { return v.kind == Bool }

func (v *flagValue) value() string { return strings.Join(v.vals, "\n") }
