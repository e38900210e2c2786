package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// assets are the release binaries, one per supported runner platform. The
// native action maps RUNNER_OS/RUNNER_ARCH to these names.
var assets = []string{
	"oidc-exchange_darwin_amd64",
	"oidc-exchange_darwin_arm64",
	"oidc-exchange_linux_amd64",
	"oidc-exchange_linux_arm64",
	"oidc-exchange_windows_amd64.exe",
	"oidc-exchange_windows_arm64.exe",
}

// defaultImage is where release.yml pushes the image.
const defaultImage = "ghcr.io/oidc-exchange/oidc-exchange"

var (
	// versionRE is a semver release tag, optionally a prerelease: what
	// release.yml triggers on and what the native action accepts.
	versionRE = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z][0-9A-Za-z.-]*)?$`)
	commitRE  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	digestRE  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	imageRE   = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+$`)
	sumLineRE = regexp.MustCompile(`^([0-9a-f]{64}) [ *]([^/\\]+)$`)
	// imageLineRE is the runs.image line of action.yml: two spaces of
	// indentation under runs:, as the file is written.
	imageLineRE = regexp.MustCompile(`(?m)^  image: .*$`)
)

// release is native/release.json.
type release struct {
	Version string            `json:"version"`
	Commit  string            `json:"commit"`
	SHA256  map[string]string `json:"sha256"`
}

// options are the command line.
type options struct {
	Root        string
	Version     string
	Commit      string
	Sums        string
	ImageDigest string
	Image       string
	Partial     bool
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "releasepin:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("releasepin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.Root, "root", ".", "repository root holding action.yml and native/")
	fs.StringVar(&o.Version, "version", "", "release version, vMAJOR.MINOR.PATCH[-PRERELEASE]")
	fs.StringVar(&o.Commit, "commit", "", "40-hex source commit the binaries were built from")
	fs.StringVar(&o.Sums, "sums", "", "SHA256SUMS written by scripts/build-release")
	fs.StringVar(&o.ImageDigest, "image-digest", "", "sha256:<index digest> of the pushed image; empty leaves action.yml alone")
	fs.StringVar(&o.Image, "image", defaultImage, "image repository the digest belongs to")
	fs.BoolVar(&o.Partial, "partial", false, "accept SHA256SUMS without every platform (CI smoke tests only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return pin(o)
}

// pin validates everything, then writes native/release.json and, with an
// image digest, action.yml. Nothing is written if any check fails.
func pin(o options) error {
	var errs []error
	if !versionRE.MatchString(o.Version) {
		errs = append(errs, fmt.Errorf("-version %q is not vMAJOR.MINOR.PATCH[-PRERELEASE]", o.Version))
	}
	if !commitRE.MatchString(o.Commit) {
		errs = append(errs, fmt.Errorf("-commit %q is not a 40-digit lower-case hex SHA", o.Commit))
	}
	if o.ImageDigest != "" && !digestRE.MatchString(o.ImageDigest) {
		errs = append(errs, fmt.Errorf("-image-digest %q is not sha256:<64 hex digits>", o.ImageDigest))
	}
	if !imageRE.MatchString(o.Image) {
		errs = append(errs, fmt.Errorf("-image %q is not an image repository name", o.Image))
	}
	if o.Sums == "" {
		errs = append(errs, errors.New("-sums is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	sumsFile, err := os.ReadFile(o.Sums)
	if err != nil {
		return err
	}
	sums, err := parseSums(sumsFile, o.Partial)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Sums, err)
	}
	rel, err := json.MarshalIndent(release{Version: o.Version, Commit: o.Commit, SHA256: sums}, "", "  ")
	if err != nil {
		return err
	}
	rel = append(rel, '\n')

	actionPath := filepath.Join(o.Root, "action.yml")
	var action []byte
	if o.ImageDigest != "" {
		old, err := os.ReadFile(actionPath)
		if err != nil {
			return err
		}
		if action, err = pinImage(old, o.Image+"@"+o.ImageDigest); err != nil {
			return fmt.Errorf("%s: %w", actionPath, err)
		}
	}
	if err := writeFile(filepath.Join(o.Root, "native", "release.json"), rel); err != nil {
		return err
	}
	if action != nil {
		return writeFile(actionPath, action)
	}
	return nil
}

// parseSums reads sha256sum output. Every line must name a known asset
// once; without partial, every asset must be present.
func parseSums(b []byte, partial bool) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		m := sumLineRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d is not '<sha256>  <file>'", n)
		}
		sum, name := m[1], m[2]
		if !slices.Contains(assets, name) {
			return nil, fmt.Errorf("line %d names %q, which is not a release asset (%s)", n, name, strings.Join(assets, ", "))
		}
		if _, dup := sums[name]; dup {
			return nil, fmt.Errorf("line %d lists %s a second time", n, name)
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, errors.New("no checksums")
	}
	if !partial {
		var missing []string
		for _, a := range assets {
			if _, ok := sums[a]; !ok {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("no checksum for %s", strings.Join(missing, ", "))
		}
	}
	return sums, nil
}

// pinImage replaces the runs.image line of action.yml with
// docker://<ref>, keeping every other byte (comments included).
func pinImage(action []byte, ref string) ([]byte, error) {
	lines := imageLineRE.FindAllIndex(action, -1)
	if len(lines) != 1 {
		return nil, fmt.Errorf("found %d runs.image lines (two-space indented 'image: '), want exactly 1", len(lines))
	}
	if !bytes.Contains(action, []byte("\n  using: docker\n")) {
		return nil, errors.New("runs.using is not docker")
	}
	var out bytes.Buffer
	out.Write(action[:lines[0][0]])
	out.WriteString("  image: docker://" + ref)
	out.Write(action[lines[0][1]:])
	return out.Bytes(), nil
}

// writeFile replaces path through a temporary file in the same directory,
// so a failure never leaves half a file.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
