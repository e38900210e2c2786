// Package sharedinitest holds what the tests of shared AWS files share: a
// reader independent of the merge it checks (gopkg.in/ini.v1 set up to
// read lines as the AWS SDKs do: '#' and ';' inside a value are part of
// it, no line continuation, quotes kept, indented lines under an empty
// value nested), the AWS SDK's own reader of a profile, and fixtures.
package sharedinitest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"gopkg.in/ini.v1"
)

// Key is a key of a section as read: its name, its verbatim value, and
// the indented values under an empty one.
type Key struct {
	Name   string
	Value  string
	Nested []string
}

// Read returns the sections of content, each with its keys in order; the
// nameless section before the first header is there as "DEFAULT".
func Read(content []byte) (map[string][]Key, error) {
	f, err := ini.LoadSources(ini.LoadOptions{
		IgnoreInlineComment:     true,
		IgnoreContinuation:      true,
		PreserveSurroundedQuote: true,
		AllowNestedValues:       true,
	}, content)
	if err != nil {
		return nil, err
	}
	out := map[string][]Key{}
	for _, sec := range f.Sections() {
		keys := []Key{}
		for _, k := range sec.Keys() {
			keys = append(keys, Key{Name: k.Name(), Value: k.Value(), Nested: k.NestedValues()})
		}
		out[sec.Name()] = keys
	}
	return out, nil
}

// LoadProfile reads one profile from the given files only, as an SDK
// client of a later step does with AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE: the consumer the files are written for.
func LoadProfile(t testing.TB, profile, configFile, credentialsFile string) config.SharedConfig {
	t.Helper()
	cfg, err := config.LoadSharedConfigProfile(t.Context(), profile, func(o *config.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{configFile}
		o.CredentialsFiles = []string{credentialsFile}
	})
	if err != nil {
		t.Fatalf("the SDK cannot load profile %q: %v", profile, err)
	}
	return cfg
}
