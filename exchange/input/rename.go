package input

import "github.com/oidc-exchange/oidc-exchange/exchange"

// Rename walks err's whole tree, errors.Join and wrapping alike, and
// renames the settings of every [exchange.SettingError] in it. The errors are changed in
// place: they are built for one run and not yet shown. A wrapper that
// fixed its message when it was built (fmt.Errorf) keeps the old names in
// its text, so settings' errors travel up joined (errors.Join), not
// wrapped.
func Rename(err error, rename func(setting string) string) {
	if err == nil {
		return
	}
	if se, ok := err.(*exchange.SettingError); ok { //nolint:errorlint // visits every node itself
		se.RenameSettings(rename)
	}
	switch x := err.(type) { //nolint:errorlint // visits every node itself, errors.As would stop at the first
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			Rename(e, rename)
		}
	case interface{ Unwrap() error }:
		Rename(x.Unwrap(), rename)
	}
}

// CLINames maps the settings of specs to how the CLI sets them (--flag),
// for [Rename]; unknown names are kept.
func CLINames(specs ...[]Spec) func(string) string {
	m := map[string]string{}
	for _, list := range specs {
		for i := range list {
			m[list[i].Label()] = list[i].CLILabel()
		}
	}
	return func(name string) string {
		if n, ok := m[name]; ok {
			return n
		}
		return name
	}
}
