package sharedini

import (
	"fmt"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// File is one shared file an export writes: the sections of one
// [exchange.Section.File], all named by the same PathEnv.
type File struct {
	// Kind is [exchange.Section.File], lower-case kebab-case.
	Kind string
	// PathEnv is the variable that names the file.
	PathEnv string
	// Sections go into the file, in the order given; their names are
	// distinct.
	Sections []exchange.Section
}

// SectionNames lists the names of f's sections.
func (f *File) SectionNames() []string {
	names := make([]string, 0, len(f.Sections))
	for _, s := range f.Sections {
		names = append(names, s.Name)
	}
	return names
}

// Plan validates sections with [CheckSection] and groups them by file, in
// order of first appearance. A file's sections must name one PathEnv, and
// a section is written once. Nothing is read or written.
func Plan(sections []exchange.Section) ([]File, error) {
	var files []File
	byKind := map[string]int{}
	for _, s := range sections {
		if err := CheckSection(s); err != nil {
			return nil, err
		}
		i, ok := byKind[s.File]
		if !ok {
			i = len(files)
			byKind[s.File] = i
			files = append(files, File{Kind: s.File, PathEnv: s.PathEnv})
		}
		f := &files[i]
		if s.PathEnv != f.PathEnv {
			return nil, fmt.Errorf("sections of shared file %q name different variables, %q and %q", s.File, f.PathEnv, s.PathEnv)
		}
		for _, o := range f.Sections {
			if o.Name == s.Name {
				return nil, fmt.Errorf("section [%s] of shared file %q is written twice", s.Name, s.File)
			}
		}
		f.Sections = append(f.Sections, s)
	}
	return files, nil
}
