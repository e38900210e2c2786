package sharedini

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/ini.v1"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini/sharedinitest"
)

// FuzzMergeSections: the shared file is untrusted input (the user, an
// earlier step or anything else with write access to the runner temp
// wrote it). Whatever its bytes, the merge must not panic, and either
// refuse or produce a file that ini.v1 reads back with our sections as
// written and every other section as it was; removing our sections again
// must leave the others as they were too.
func FuzzMergeSections(f *testing.F) {
	for _, seed := range []string{
		"", sharedinitest.UserConfig, "[a]\nk=v\n", "[profile dev]\nregion = x\n", "[profile x]\nk = old\n# c\n",
		"[a]\r\nk = v # c\r\n; x\r\n", "\xef\xbb\xbf[a]\nk=v\n", "[a] ; c\nk: v\n", "# only a comment\n",
		"[a]\n[a]\nk = 1\nk = 2\n", "[a]\n- = 1\n- = 2\n", "[a]\ns3 =\n  x = 1\n  # c\n\ty = 2\n", "[a]\nk =\n  \n",
		"[a]\nk = \"v\"\n", "[a]\nk = 'v' ; c\n", "[a.b]\nk = v\n[a]\nj = w\n", "[ a ]\n k = v\n", "[a]\nk = v\\\n  w\n",
		"k = v\n", "[DEFAULT]\n", "[a]\nk\n", "[a\n", "[]\n", "[a]\n=v\n", "[a]\n\"k\" = v\n", "[a]\nk = `v`\n",
		// A key set twice, first with nested values: ini.v1 keeps them
		// under the second value, where they no longer read as nested,
		// so the merge must refuse (found by fuzzing).
		"[t]\ns3=\n \ns3=1", "[t]\nn=\nt=\n /opt/bin/helper \"a b\"\nt=.\n",
	} {
		f.Add([]byte(seed))
	}
	ours := []exchange.Section{
		sharedinitest.ConfigSection("dev", false),
		{File: "aws-config", PathEnv: "AWS_CONFIG_FILE", Name: "profile x", Replace: true,
			Keys: []exchange.Variable{exchange.SecretVariable("k", exchange.NewSecret(sharedinitest.Secret))}},
	}
	names := []string{"profile dev", "profile x"}
	read := func(t *testing.T, what string, b []byte) map[string][]string {
		t.Helper()
		file, err := ini.LoadSources(iniOptions(), b)
		if err != nil {
			t.Fatalf("ini.v1 cannot read the %s file: %v", what, err)
		}
		out := map[string][]string{}
		for _, s := range file.Sections() {
			keys := []string{}
			for _, k := range s.Keys() {
				keys = append(keys, fmt.Sprintf("%q=%q%q", k.Name(), k.Value(), k.NestedValues()))
			}
			out[s.Name()] = keys
		}
		return out
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		out, err := Merge(content, ours, "AWS_CONFIG_FILE", "/x")
		if err != nil {
			if strings.Contains(err.Error(), sharedinitest.Secret) {
				t.Fatalf("error %q contains a secret", err)
			}
			return
		}
		before, after := read(t, "original", content), read(t, "merged", out)
		for _, s := range ours {
			var want []string
			for _, k := range s.Keys {
				want = append(want, fmt.Sprintf("%q=%q%q", k.Name, k.Value.Reveal(), []string(nil)))
			}
			if diff := cmp.Diff(want, after[s.Name]); diff != "" {
				t.Fatalf("section [%s] (-want +got):\n%s", s.Name, diff)
			}
			delete(before, s.Name)
			delete(after, s.Name)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("other sections changed (-before +after):\n%s", diff)
		}

		cleaned, removed, _, err := Remove(out, names)
		if err != nil || !removed {
			t.Fatalf("Remove = %v, %v", removed, err)
		}
		if diff := cmp.Diff(before, read(t, "cleaned", cleaned)); diff != "" {
			t.Fatalf("after removing ours (-before +after):\n%s", diff)
		}
	})
}
