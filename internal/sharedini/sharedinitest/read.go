// Package sharedinitest reads shared INI files in tests, independently of
// the merge it checks: with gopkg.in/ini.v1 set up to read lines as the
// AWS SDKs do ('#' and ';' inside a value are part of it, no line
// continuation, quotes kept, indented lines under an empty value nested).
package sharedinitest

import (
	"gopkg.in/ini.v1"

	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
)

// Read returns the sections of content, each with its keys in order; the
// nameless section before the first header is there as "DEFAULT".
func Read(content []byte) (map[string][]sharedini.Key, error) {
	f, err := ini.LoadSources(ini.LoadOptions{
		IgnoreInlineComment:     true,
		IgnoreContinuation:      true,
		PreserveSurroundedQuote: true,
		AllowNestedValues:       true,
	}, content)
	if err != nil {
		return nil, err
	}
	out := map[string][]sharedini.Key{}
	for _, sec := range f.Sections() {
		keys := []sharedini.Key{}
		for _, k := range sec.Keys() {
			keys = append(keys, sharedini.Key{Name: k.Name(), Value: k.Value(), Nested: k.NestedValues()})
		}
		out[sec.Name()] = keys
	}
	return out, nil
}
