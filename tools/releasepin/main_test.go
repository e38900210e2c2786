package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	testCommit = "0123456789abcdef0123456789abcdef01234567"
	testDigest = "sha256:" + "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"
)

// sumsFor renders a SHA256SUMS over names, each with a distinct sum.
func sumsFor(names ...string) string {
	var b strings.Builder
	for i, n := range names {
		fmt.Fprintf(&b, "%064x  %s\n", i+1, n)
	}
	return b.String()
}

// fixture copies testdata/root to a temporary directory and writes sums.
func fixture(t *testing.T, sums string) (root, sumsPath string) {
	t.Helper()
	root = t.TempDir()
	for _, f := range []string{"action.yml", "native/release.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "root", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sumsPath = filepath.Join(t.TempDir(), "SHA256SUMS")
	if err := os.WriteFile(sumsPath, []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, sumsPath
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file:\n--- want\n%s\n--- got\n%s", name, want, got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPin pins a full release and compares both files with golden
// copies; the action.yml golden differs from the input in the image line
// only.
func TestPin(t *testing.T) {
	t.Parallel()
	root, sums := fixture(t, sumsFor(assets...))
	err := run([]string{"-root", root, "-version", "v1.2.3", "-commit", testCommit, "-sums", sums, "-image-digest", testDigest}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	action := readFile(t, filepath.Join(root, "action.yml"))
	golden(t, "pinned-action.yml.golden", action)
	golden(t, "release.json.golden", readFile(t, filepath.Join(root, "native", "release.json")))

	before := strings.Split(string(readFile(t, filepath.Join("testdata", "root", "action.yml"))), "\n")
	after := strings.Split(string(action), "\n")
	if len(before) != len(after) {
		t.Fatalf("line count changed: %d → %d", len(before), len(after))
	}
	var changed []string
	for i := range before {
		if before[i] != after[i] {
			changed = append(changed, after[i])
		}
	}
	want := "  image: docker://ghcr.io/oidc-exchange/oidc-exchange@" + testDigest
	if len(changed) != 1 || changed[0] != want {
		t.Errorf("changed lines = %q, want only %q", changed, want)
	}
}

// TestPinWithoutDigest writes release.json and leaves action.yml alone,
// as CI's native smoke test needs.
func TestPinWithoutDigest(t *testing.T) {
	t.Parallel()
	root, sums := fixture(t, sumsFor("oidc-exchange_windows_arm64.exe"))
	if err := run([]string{"-root", root, "-version", "v0.0.0-ci", "-commit", testCommit, "-sums", sums, "-partial"}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, filepath.Join(root, "action.yml")), readFile(t, filepath.Join("testdata", "root", "action.yml")); !bytes.Equal(got, want) {
		t.Error("action.yml changed without -image-digest")
	}
	want := "{\n  \"version\": \"v0.0.0-ci\",\n  \"commit\": \"" + testCommit + "\",\n  \"sha256\": {\n    \"oidc-exchange_windows_arm64.exe\": \"" +
		fmt.Sprintf("%064x", 1) + "\"\n  }\n}\n"
	if got := string(readFile(t, filepath.Join(root, "native", "release.json"))); got != want {
		t.Errorf("release.json =\n%s\nwant\n%s", got, want)
	}
}

// TestPinRefuses checks that every bad input is refused before anything
// is written.
func TestPinRefuses(t *testing.T) {
	t.Parallel()
	all := sumsFor(assets...)
	tests := []struct {
		name    string
		sums    string
		args    []string
		action  string // replaces action.yml when set
		wantErr string
	}{
		{"version without v", all, []string{"-version", "1.2.3"}, "", "-version"},
		{"version with build metadata", all, []string{"-version", "v1.2.3+meta"}, "", "-version"},
		{"version with leading zero", all, []string{"-version", "v01.2.3"}, "", "-version"},
		{"short commit", all, []string{"-commit", "0123456"}, "", "-commit"},
		{"upper-case commit", all, []string{"-commit", strings.ToUpper(testCommit)}, "", "-commit"},
		{"digest without algorithm", all, []string{"-image-digest", strings.TrimPrefix(testDigest, "sha256:")}, "", "-image-digest"},
		{"digest too short", all, []string{"-image-digest", "sha256:abc"}, "", "-image-digest"},
		{"image with a tag", all, []string{"-image", "ghcr.io/o/r:latest"}, "", "-image"},
		{"missing platform", sumsFor(assets[1:]...), nil, "", "no checksum for oidc-exchange_darwin_amd64"},
		{"unknown asset", all + sumsFor("oidc-exchange_plan9_amd64"), nil, "", "not a release asset"},
		{"duplicate asset", all + sumsFor("oidc-exchange_linux_amd64"), nil, "", "a second time"},
		{"path in asset name", strings.Replace(all, "  oidc-exchange_linux_amd64", "  ../oidc-exchange_linux_amd64", 1), nil, "", "is not '<sha256>  <file>'"},
		{"upper-case sum", strings.Replace(all, "00000000000000000000", "AAAAAAAAAAAAAAAAAAAA", 1), nil, "", "is not '<sha256>  <file>'"},
		{"empty sums", "", []string{"-partial"}, "", "no checksums"},
		{"two image lines", all, nil, "runs:\n  using: docker\n  image: a\n  image: b\n", "found 2 runs.image lines"},
		{"no image line", all, nil, "runs:\n  using: node24\n  main: main.js\n", "found 0 runs.image lines"},
		{"not a docker action", all, nil, "runs:\n  using: node24\n  image: x\n", "runs.using is not docker"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, sums := fixture(t, tc.sums)
			if tc.action != "" {
				if err := os.WriteFile(filepath.Join(root, "action.yml"), []byte(tc.action), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			beforeAction := readFile(t, filepath.Join(root, "action.yml"))
			beforeRelease := readFile(t, filepath.Join(root, "native", "release.json"))
			args := []string{"-root", root, "-version", "v1.2.3", "-commit", testCommit, "-sums", sums, "-image-digest", testDigest}
			args = append(args, tc.args...) // later flags win
			err := run(args, os.Stderr)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if !bytes.Equal(beforeAction, readFile(t, filepath.Join(root, "action.yml"))) {
				t.Error("action.yml was written although pinning failed")
			}
			if !bytes.Equal(beforeRelease, readFile(t, filepath.Join(root, "native", "release.json"))) {
				t.Error("release.json was written although pinning failed")
			}
		})
	}
}

// TestRepositoryActionPins pins the repository's own action.yml, so a
// change to its runs section that releasepin cannot handle fails here
// rather than in a release.
func TestRepositoryActionPins(t *testing.T) {
	t.Parallel()
	b := readFile(t, filepath.Join("..", "..", "action.yml"))
	out, err := pinImage(b, defaultImage+"@"+testDigest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("\n  image: docker://"+defaultImage+"@"+testDigest+"\n")) {
		t.Error("the pinned action.yml does not name the image by digest")
	}
}

func FuzzParseSums(f *testing.F) {
	f.Add([]byte(sumsFor(assets...)), false)
	f.Add([]byte(sumsFor("oidc-exchange_linux_amd64")), true)
	f.Add([]byte("x  y\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, partial bool) {
		sums, err := parseSums(b, partial)
		if err != nil {
			return
		}
		for name, sum := range sums {
			if len(sum) != 64 || strings.ContainsAny(name, "/\\\n") {
				t.Fatalf("accepted %q → %q", name, sum)
			}
		}
		if !partial && len(sums) != len(assets) {
			t.Fatalf("accepted %d sums without -partial", len(sums))
		}
	})
}
