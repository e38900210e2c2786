package sharedini

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/ini.v1"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/exchangetest"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMergeSectionsGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, golden string
		content      string
		sections     []exchange.Section
	}{
		{name: "new config file", golden: "new_config.golden",
			sections: []exchange.Section{sharedinitest.ConfigSection("a", false), sharedinitest.ConfigSection("b", false)}},
		{name: "new credentials file", golden: "new_credentials.golden",
			sections: []exchange.Section{sharedinitest.CredentialsSection("a", false)}},
		{name: "merge into a user's file", golden: "merge_user.golden", content: sharedinitest.UserConfig,
			sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)}},
		{name: "replace in place", golden: "replace.golden", content: sharedinitest.UserConfig,
			sections: []exchange.Section{{File: "aws-config", PathEnv: "AWS_CONFIG_FILE", Name: "profile user", Replace: true,
				Keys: []exchange.Variable{exchange.PlainVariable("region", "ap-south-1")}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var content []byte
			if tc.content != "" {
				content = []byte(tc.content)
			}
			out, err := Merge(content, tc.sections, "AWS_CONFIG_FILE", "/x/config")
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			exchangetest.Golden(t, tc.golden, string(out), *update)
		})
	}
}

// TestMergeSectionsKeepsOthers reads the merged file with ini.v1 and
// checks that every section of the user's file reads as before.
func TestMergeSectionsKeepsOthers(t *testing.T) {
	t.Parallel()
	before, err := loadINI([]byte(sharedinitest.UserConfig))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Merge([]byte(sharedinitest.UserConfig), []exchange.Section{sharedinitest.ConfigSection("dev", false)}, "AWS_CONFIG_FILE", "/x")
	if err != nil {
		t.Fatal(err)
	}
	after, err := loadINI(out)
	if err != nil {
		t.Fatal(err)
	}
	want := readSections(before)
	want["profile dev"] = []Key{{Name: "region", Value: "eu-west-1"}, {Name: "credential_process", Value: sharedinitest.Process}}
	if diff := cmp.Diff(want, readSections(after), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}
	for _, c := range []string{"# Written by hand; keep this comment.", "; The user's own profile.", "# A comment at the end of the file."} {
		if !strings.Contains(string(out), c+"\n") {
			t.Errorf("comment %q lost:\n%s", c, out)
		}
	}
}

func TestMergeSectionsRefuses(t *testing.T) {
	t.Parallel()
	// secretLine is a malformed line holding a secret of the user's;
	// ini.v1 quotes such lines in its errors.
	const secretLine = "FAKE-user-secret-line"
	tests := []struct {
		name     string
		content  string
		sections []exchange.Section
		wantErr  error
	}{
		{name: "section exists", content: sharedinitest.UserConfig, sections: []exchange.Section{sharedinitest.ConfigSection("user", false)}},
		{name: "backquoted value", content: "[a]\nk = `v`\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIQuoting},
		{name: "triple quotes", content: "[a]\nk = \"\"\"v\n\"\"\"\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIQuoting},
		{name: "quoted key", content: "[a]\n\"k\" = v\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIQuoting},
		{name: "quote in a key", content: "[a]\nk\"x = v\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIQuoting},
		{name: "keys outside a section", content: "k = v\n[a]\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIGlobalKeys},
		{name: "DEFAULT section", content: "[a]\nx = 1\n[DEFAULT]\nk = v\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIGlobalKeys},
		{name: "line without a delimiter", content: "[a]\n" + secretLine + "\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIParse},
		{name: "unclosed section", content: "[a\nk = " + secretLine + "\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIParse},
		{name: "empty section name", content: "[]\nk = " + secretLine + "\n", sections: []exchange.Section{sharedinitest.ConfigSection("dev", false)},
			wantErr: errINIParse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Merge([]byte(tc.content), tc.sections, "AWS_CONFIG_FILE", "/x/config")
			if err == nil {
				t.Fatalf("Merge succeeded:\n%s", out)
			}
			if tc.wantErr == nil {
				var exists *SectionExistsError
				if !errors.As(err, &exists) || exists.Section != tc.sections[0].Name || !errors.Is(err, exchange.ErrInvalidInput) {
					t.Errorf("err = %v, want a SectionExistsError for [%s]", err, tc.sections[0].Name)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "FAKE") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
}

func TestCheckSection(t *testing.T) {
	t.Parallel()
	with := func(f func(*exchange.Section)) exchange.Section {
		s := sharedinitest.CredentialsSection("dev", false)
		s.Keys = append([]exchange.Variable(nil), s.Keys...)
		f(&s)
		return s
	}
	value := func(v string) exchange.Section {
		return with(func(s *exchange.Section) { s.Keys[1].Value = exchange.NewSecret(v) })
	}
	tests := []struct {
		name    string
		section exchange.Section
		wantMsg string // "" means valid
	}{
		{name: "credentials", section: sharedinitest.CredentialsSection("dev", false)},
		{name: "config", section: sharedinitest.ConfigSection("dev", false)},
		{name: "secret with / + =", section: value("FAKE/a+b=c==")},
		{name: "inner quotes and '#'", section: value(`FAKE"x"#y;z`)},
		{name: "quote at one end only", section: value(`"FAKE x`)},
		{name: "file kind upper case", section: with(func(s *exchange.Section) { s.File = "AWS-config" }), wantMsg: "kebab-case"},
		{name: "file kind with a slash", section: with(func(s *exchange.Section) { s.File = "../x" }), wantMsg: "kebab-case"},
		{name: "file kind empty", section: with(func(s *exchange.Section) { s.File = "" }), wantMsg: "kebab-case"},
		{name: "file kind double hyphen", section: with(func(s *exchange.Section) { s.File = "a--b" }), wantMsg: "kebab-case"},
		{name: "empty name", section: with(func(s *exchange.Section) { s.Name = "" }), wantMsg: "empty"},
		{name: "bracket in name", section: with(func(s *exchange.Section) { s.Name = "a]b" }), wantMsg: "bracket"},
		{name: "newline in name", section: with(func(s *exchange.Section) { s.Name = "a\n[b" }), wantMsg: "control"},
		{name: "leading space in name", section: with(func(s *exchange.Section) { s.Name = " dev" }), wantMsg: "white space"},
		{name: "trailing space in name", section: with(func(s *exchange.Section) { s.Name = "dev " }), wantMsg: "white space"},
		{name: "comment in name", section: with(func(s *exchange.Section) { s.Name = "dev#1" }), wantMsg: "comment"},
		{name: "DEFAULT", section: with(func(s *exchange.Section) { s.Name = "DEFAULT" }), wantMsg: "reserved"},
		{name: "invalid UTF-8 name", section: with(func(s *exchange.Section) { s.Name = "a\xff" }), wantMsg: "UTF-8"},
		{name: "long name", section: with(func(s *exchange.Section) { s.Name = strings.Repeat("a", maxSectionName+1) }), wantMsg: "longer"},
		{name: "no keys", section: with(func(s *exchange.Section) { s.Keys = nil }), wantMsg: "no keys"},
		{name: "key with a space", section: with(func(s *exchange.Section) { s.Keys[0].Name = "a b" }), wantMsg: "invalid"},
		{name: "key with '='", section: with(func(s *exchange.Section) { s.Keys[0].Name = "a=b" }), wantMsg: "invalid"},
		{name: "key '-'", section: with(func(s *exchange.Section) { s.Keys[0].Name = "-" }), wantMsg: "invalid"},
		{name: "key twice", section: with(func(s *exchange.Section) { s.Keys[1].Name = "AWS_ACCESS_KEY_ID" }), wantMsg: "twice"},
		{name: "value with a newline", section: value("FAKE\nx = y"), wantMsg: "line break"},
		{name: "value with CR", section: value("FAKE\rx"), wantMsg: "line break"},
		{name: "value with NUL", section: value("FAKE\x00x"), wantMsg: "control"},
		{name: "value invalid UTF-8", section: value("FAKE\xff"), wantMsg: "UTF-8"},
		{name: "value with leading space", section: value(" FAKE"), wantMsg: "white space"},
		{name: "value with trailing NBSP", section: value("FAKE\u00a0"), wantMsg: "white space"},
		{name: "value with a backquote", section: value("FAKE`x"), wantMsg: "backquote"},
		{name: "value with triple quotes", section: value(`"""FAKE`), wantMsg: "triple"},
		{name: "value in double quotes", section: value(`"FAKE x"`), wantMsg: "quote"},
		{name: "value in single quotes", section: value(`'FAKE x'`), wantMsg: "quote"},
		{name: "value with an inline comment", section: value("FAKE #x"), wantMsg: "inline comment"},
		{name: "value with an inline ; comment", section: value("FAKE ;x"), wantMsg: "inline comment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckSection(tc.section)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("checkSection: %v", err)
				}
				// A valid section is written verbatim and reads back.
				out, err := Merge(nil, []exchange.Section{tc.section}, "AWS_CONFIG_FILE", "/x")
				if err != nil {
					t.Fatalf("Merge: %v", err)
				}
				for _, k := range tc.section.Keys {
					if !strings.Contains(string(out), " = "+k.Value.Reveal()+"\n") {
						t.Errorf("value of %s not written verbatim:\n%s", k.Name, out)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "FAKE") {
				t.Errorf("error %q contains a value", err)
			}
		})
	}
}

func TestRemoveSections(t *testing.T) {
	t.Parallel()
	merged, err := Merge([]byte(sharedinitest.UserConfig), []exchange.Section{sharedinitest.ConfigSection("a", false), sharedinitest.ConfigSection("b", false)},
		"AWS_CONFIG_FILE", "/x")
	if err != nil {
		t.Fatal(err)
	}
	// Someone appends a comment after our sections and one above a
	// later profile of theirs.
	merged = append(merged, []byte("# appended by a later step\n[profile later]\nregion = sa-east-1\n")...)
	out, removed, empty, err := Remove(merged, []string{"profile a", "profile b", "profile gone"})
	if err != nil || !removed || empty {
		t.Fatalf("Remove = %v, %v, %v", removed, empty, err)
	}
	f, err := loadINI(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadINI([]byte(sharedinitest.UserConfig + "[profile later]\nregion = sa-east-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(readSections(want), readSections(f), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("sections left (-want +got):\n%s", diff)
	}
	for _, c := range []string{"# Written by hand; keep this comment.", "# A comment at the end of the file.", "# appended by a later step"} {
		if !strings.Contains(string(out), c+"\n") {
			t.Errorf("comment %q lost:\n%s", c, out)
		}
	}

	// Nothing of ours: unchanged.
	same, removed, _, err := Remove([]byte(sharedinitest.UserConfig), []string{"profile a"})
	if err != nil || removed || string(same) != sharedinitest.UserConfig {
		t.Errorf("Remove without our sections = %q, %v, %v", same, removed, err)
	}

	// Only ours: empty.
	onlyOurs, err := Merge(nil, []exchange.Section{sharedinitest.CredentialsSection("a", false)}, "AWS_SHARED_CREDENTIALS_FILE", "/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, removed, empty, err := Remove(onlyOurs, []string{"a"}); err != nil || !removed || !empty {
		t.Errorf("removing the only section = %v, %v, %v; want removed and empty", removed, empty, err)
	}
	// The default section is never ours to remove.
	if _, removed, _, err := Remove(onlyOurs, []string{ini.DefaultSection}); err != nil || removed {
		t.Errorf("removing DEFAULT = %v, %v", removed, err)
	}
}
