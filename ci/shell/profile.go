package shell

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
)

// defaultSharedFiles are where the AWS SDKs and CLI look for a shared file
// when its variable is unset, relative to the home directory, by
// [exchange.Section.File].
var defaultSharedFiles = map[string]string{
	"aws-config":      filepath.Join(".aws", "config"),
	"aws-credentials": filepath.Join(".aws", "credentials"),
}

const (
	// profileDirMode is the mode of a directory the writer creates: it
	// holds credentials.
	profileDirMode = 0o700
	// profileFileMode is the mode of every file the writer writes, also
	// when it replaces one that others could read, as it now holds keys.
	profileFileMode = 0o600
	// stagePrefix starts the names of staged files, which live next to
	// the file they replace for a moment.
	stagePrefix = ".oidc-exchange-"
)

// ProfileWriter implements [exchange.Exporter] for credentials that are
// profiles ([exchange.Credentials].Sections): it merges them into the
// user's shared files, an AWS config and credentials file pair, where any
// AWS SDK or the AWS CLI finds them by profile name. Nothing goes to
// standard output.
//
// A section goes into the file its PathEnv names when Getenv returns a
// value for it (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), else into
// the SDKs' default under Home (~/.aws/config, ~/.aws/credentials). A
// missing directory is created private (0700). An existing file must be a
// regular file (a symbolic link is refused, never followed); it is read,
// merged with [sharedini.Merge], which keeps every other profile and
// comment, and replaced by a private (0600) file with a rename. Every file
// is staged and synced before any is renamed, and the files renamed are
// put back if a later rename fails, so the profiles are written whole or
// not at all.
type ProfileWriter struct {
	// Getenv reads the variables that name the files; only cmd reads the
	// environment.
	Getenv func(string) string
	// Home is the user's home directory, where the files go by default.
	Home string
	// Notices receives one line per profile written, naming the files
	// but never a value; normally standard error. nil discards them.
	Notices io.Writer
}

var _ exchange.Exporter = (*ProfileWriter)(nil)

// profileFile is one shared file of an export.
type profileFile struct {
	sharedini.File
	// dir and name locate the file; shown is its path in messages.
	dir, name, shown string
	root             *os.Root
	old              []byte
	existed          bool
	// tmp is the staged file's name in dir; renamed says it replaced
	// name.
	tmp     string
	renamed bool
}

// Export implements [exchange.Exporter]. Credentials without sections,
// or with files or secret variables that would have nowhere to go, are
// refused: printing nothing, the writer must drop nothing.
func (w *ProfileWriter) Export(ctx context.Context, c *exchange.Credentials) error {
	if c == nil || len(c.Sections) == 0 {
		return errors.New("no profile to write: the provider returned no shared-file sections")
	}
	if len(c.Files) > 0 {
		return errors.New("the provider returned credential files, which a profile cannot hold")
	}
	for _, v := range c.Env {
		if v.Sensitive {
			return fmt.Errorf("the provider returned the secret variable %s, which a profile cannot hold", v.Name)
		}
	}
	planned, err := sharedini.Plan(c.Sections)
	if err != nil {
		return err
	}
	files := make([]*profileFile, 0, len(planned))
	for _, p := range planned {
		f := &profileFile{File: p}
		if err := w.locate(f); err != nil {
			return err
		}
		for _, o := range files {
			if filepath.Join(o.dir, o.name) == filepath.Join(f.dir, f.name) {
				return exchange.InputError(f.PathEnv, "%s and %s name the same file %s; they must differ",
					exchange.Setting(o.PathEnv), exchange.Setting(f.PathEnv), f.shown)
			}
		}
		files = append(files, f)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = writeProfiles(files)
	for _, f := range files {
		if f.root != nil {
			f.root.Close()
		}
	}
	if err != nil {
		return err
	}
	w.notify(files)
	return nil
}

// locate decides where f goes.
func (w *ProfileWriter) locate(f *profileFile) error {
	p := ""
	if w.Getenv != nil {
		p = strings.TrimSpace(w.Getenv(f.PathEnv))
	}
	if p == "" {
		rel, ok := defaultSharedFiles[f.Kind]
		if !ok {
			return exchange.InputError(f.PathEnv, "is not set, and shared file %q has no default place", f.Kind)
		}
		if w.Home == "" || !filepath.IsAbs(w.Home) {
			return exchange.InputError(f.PathEnv, "is not set and the home directory is unknown; set %s", f.PathEnv)
		}
		p = filepath.Join(w.Home, rel)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return exchange.InputError(f.PathEnv, "%q: %v", p, err)
	}
	f.dir, f.name, f.shown = filepath.Dir(abs), filepath.Base(abs), abs
	return nil
}

// writeProfiles stages every file, then renames them all; on failure
// every file is as it was and no staged file is left.
func writeProfiles(files []*profileFile) error {
	err := stageProfiles(files)
	if err == nil {
		err = renameProfiles(files)
	}
	if err != nil {
		return errors.Join(err, rollbackProfiles(files))
	}
	return nil
}

func stageProfiles(files []*profileFile) error {
	for _, f := range files {
		if err := f.stage(); err != nil {
			return err
		}
	}
	return nil
}

func renameProfiles(files []*profileFile) error {
	for _, f := range files {
		if err := f.root.Rename(f.tmp, f.name); err != nil {
			return fmt.Errorf("replacing %s: %w", f.shown, err)
		}
		f.tmp, f.renamed = "", true
		syncDir(f.root)
	}
	return nil
}

// stage reads f, merges its sections and writes the result next to it.
func (f *profileFile) stage() error {
	if err := os.MkdirAll(f.dir, profileDirMode); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", f.shown, err)
	}
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return fmt.Errorf("opening the directory of %s: %w", f.shown, err)
	}
	f.root = root
	if err := f.read(); err != nil {
		return err
	}
	merged, err := sharedini.Merge(f.old, f.Sections, f.PathEnv, f.shown)
	var exists *sharedini.SectionExistsError
	switch {
	case errors.As(err, &exists):
		return err
	case err != nil:
		return exchange.InputError(f.PathEnv, "cannot merge into %s: %v", f.shown, err)
	}
	f.tmp, err = stageFile(root, merged)
	if err != nil {
		return fmt.Errorf("writing next to %s: %w", f.shown, err)
	}
	return nil
}

// read loads the current file, if any. Anything but a regular file is
// refused; so is a file swapped between the checks.
func (f *profileFile) read() error {
	fi, err := f.root.Lstat(f.name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.shown, err)
	}
	if !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.Mode()&fs.ModeSymlink != 0 {
			what = "a symbolic link"
		}
		return exchange.InputError(f.PathEnv, "%s is %s; refusing to write through it", f.shown, what)
	}
	fh, err := f.root.Open(f.name)
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.shown, err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !os.SameFile(fi, st) {
		return fmt.Errorf("%s changed while it was being opened", f.shown)
	}
	b, err := io.ReadAll(io.LimitReader(fh, sharedini.MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.shown, err)
	}
	if len(b) > sharedini.MaxFileSize {
		return exchange.InputError(f.PathEnv, "%s is larger than %d bytes, too large for a shared credentials file", f.shown, sharedini.MaxFileSize)
	}
	f.old, f.existed = b, true
	return nil
}

// stageFile writes content to a new private file in root, synced and
// closed, and returns its name. On failure nothing is left behind.
func stageFile(root *os.Root, content []byte) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for a file name: %w", err)
	}
	name := stagePrefix + hex.EncodeToString(b[:]) + ".tmp"
	fh, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, profileFileMode)
	if err != nil {
		return "", err
	}
	_, err = fh.Write(content)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = root.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes a rename durable where the platform allows; a failure
// only weakens durability, never the result.
func syncDir(root *os.Root) {
	if d, err := root.Open("."); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// rollbackProfiles puts back every file that was replaced and removes
// every staged file. It returns what it could not undo.
func rollbackProfiles(files []*profileFile) error {
	var errs []error
	for _, f := range files {
		if f.root == nil {
			continue
		}
		if f.renamed {
			if err := f.restore(); err != nil {
				errs = append(errs, fmt.Errorf("restoring %s after the failed write: %w", f.shown, err))
			}
		}
		if f.tmp != "" {
			if err := f.root.Remove(f.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing %s next to %s: %w", f.tmp, f.shown, err))
			}
			f.tmp = ""
		}
	}
	return errors.Join(errs...)
}

// restore undoes f's rename: the old content goes back the way the new
// one came, or the file goes when there was none.
func (f *profileFile) restore() error {
	f.renamed = false
	if !f.existed {
		return f.root.Remove(f.name)
	}
	tmp, err := stageFile(f.root, f.old)
	if err != nil {
		return err
	}
	if err := f.root.Rename(tmp, f.name); err != nil {
		_ = f.root.Remove(tmp)
		return err
	}
	return nil
}

// notify prints one line per profile: the profile is a section's name
// without the config file's "profile " prefix.
func (w *ProfileWriter) notify(files []*profileFile) {
	if w.Notices == nil {
		return
	}
	var order []string
	where := map[string][]string{}
	for _, f := range files {
		for _, s := range f.Sections {
			p := strings.TrimPrefix(s.Name, "profile ")
			if _, ok := where[p]; !ok {
				order = append(order, p)
			}
			where[p] = append(where[p], f.shown)
		}
	}
	for _, p := range order {
		fmt.Fprintf(w.Notices, "wrote profile %s to %s\n", p, strings.Join(where[p], " and "))
	}
}
