package github

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/sharedini"
)

// Shared files ([exchange.Section]) are INI files that several steps of a
// job write to: an AWS config and credentials file pair. Where and how, and
// why:
//
//   - Which file: the one the step's environment names in PathEnv
//     (AWS_CONFIG_FILE), which an earlier step or the user set; else
//     oidc-exchange-<File> in the directory credential files go to, a
//     fixed name so that a later step merges into the same file even
//     without the variable. Later steps find it through PathEnv, exported
//     with the host path.
//   - In a container the runner hands PathEnv over translated into a
//     container path when the file is under a mount; a host path is
//     mapped with [Paths.ToContainer]. Only the runner temp directory and
//     /github/home qualify: the runner empties both after the job, and
//     other places are not shared with later steps or belong to the
//     runner. Never the workspace, natively either.
//   - How: the existing file must be a regular file with no other hard
//     link (a symbolic link is refused, never followed), is read through
//     an os.Root, merged (see [sharedini.Merge]), and replaced by a new file
//     created next to it exclusively with mode 0600 — also when the old
//     one was readable by others, as it now holds credentials — owned by
//     the directory's owner when running as root, written and synced, then
//     renamed over the old one. Every file of an export is staged before any is renamed; the
//     old file is kept as a hard link until the file commands are written,
//     so a failure anywhere puts every file back as it was.
//   - When it goes: the state ([StateSections]) lists each file by its
//     container path with the sections this step wrote and whether this
//     step created the file. [Edge.Cleanup] removes those sections, keeps
//     all others, and deletes the file when this step created it and no
//     section is left. Post steps run in reverse order of the main steps,
//     so the step that created the file cleans up last.

const (
	// sharedFilePrefix starts the default name of a shared file.
	sharedFilePrefix = "oidc-exchange-"
	// stagePrefix starts the names of staged files and backups, which
	// live next to the file for a moment.
	stagePrefix = ".oidc-exchange-"
)

// sharedRecord is one shared file in [StateSections].
type sharedRecord struct {
	// Path is the file's path as this process opens it: the container
	// path in a container action, the same path natively.
	Path string `json:"path"`
	// Created says the step created the file, so its post step removes
	// it when nothing else is left in it.
	Created bool `json:"created"`
	// Sections are the sections the step wrote.
	Sections []string `json:"sections"`
}

// sharedFile is one shared file an export merges sections into.
type sharedFile struct {
	sharedini.File

	// dir is the directory as this process opens it, name the file's name
	// in it, host the path exported to later steps.
	dir, name, host string

	root *os.Root
	// existed says there was a file to merge into.
	existed bool
	// tmp is the staged file, backup a hard link to the old file; both
	// are names in dir, empty until created.
	tmp, backup string
	// committed says tmp has been renamed over name.
	committed bool
}

// container is the file's path as this process opens it.
func (f *sharedFile) container() string { return filepath.Join(f.dir, f.name) }

// planShared validates sections and groups them by file, in order of
// first appearance. Nothing is read or written.
func planShared(sections []exchange.Section) ([]*sharedFile, error) {
	planned, err := sharedini.Plan(sections)
	if err != nil {
		return nil, err
	}
	files := make([]*sharedFile, 0, len(planned))
	for _, f := range planned {
		files = append(files, &sharedFile{File: f})
	}
	return files, nil
}

// locateShared decides where each shared file is; see the comment at the
// top of this file.
func (e *Edge) locateShared(files []*sharedFile) error {
	for _, f := range files {
		if err := e.locateOne(f); err != nil {
			return err
		}
	}
	for i, f := range files {
		for _, o := range files[:i] {
			if o.container() == f.container() {
				return exchange.InputError(f.PathEnv, "%s and %s name the same file %s; they must differ", exchange.Setting(o.PathEnv), exchange.Setting(f.PathEnv), f.host)
			}
		}
	}
	return nil
}

// locateOne decides where f is.
func (e *Edge) locateOne(f *sharedFile) error {
	v := strings.TrimSpace(e.getenv(f.PathEnv))
	switch {
	case v == "":
		loc, err := e.fileLocation()
		if err != nil {
			return err
		}
		f.dir, f.name = loc.dir, sharedFilePrefix+f.Kind
		f.host, err = loc.exported(f.name)
		return err
	case e.native:
		return e.locateNative(f, v)
	default:
		c, err := e.containerView()
		if err != nil {
			return err
		}
		return c.locate(f, v)
	}
}

// locateNative places f at v, the host path the step's environment names.
func (e *Edge) locateNative(f *sharedFile, v string) error {
	if !filepath.IsAbs(v) {
		return exchange.InputError(f.PathEnv, "%q is not an absolute path", v)
	}
	p := filepath.Clean(v)
	if ws := strings.TrimSpace(e.getenv("GITHUB_WORKSPACE")); ws != "" && filepath.IsAbs(ws) && within(p, ws) {
		return exchange.InputError(f.PathEnv, "%s is in the workspace %s; credentials do not belong there, "+
			"where they get committed, uploaded or deleted by a checkout: point it into ${{ runner.temp }} or unset it", p, ws)
	}
	f.dir, f.name, f.host = filepath.Dir(p), filepath.Base(p), p
	return nil
}

// containerView is what a container action knows about its mounts.
type containerView struct {
	paths Paths
	// root is where the container's "/" is for this process: "" in a
	// real container, a directory in a simulated one (see [fileDir]).
	root string
}

func (e *Edge) containerView() (containerView, error) {
	paths, err := NewPaths(e.getenv, e.hostRunnerTemp)
	if err != nil {
		return containerView{}, fmt.Errorf("locating the runner temp directory for shared files: %w", err)
	}
	dir, literal, err := fileDir(e.getenv, paths)
	if err != nil {
		return containerView{}, err
	}
	return containerView{paths: paths, root: strings.TrimSuffix(dir, literal)}, nil
}

// locate places f at v, a path from the step's environment: a container
// path when the runner translated it, else a host path.
func (c containerView) locate(f *sharedFile, v string) error {
	if !path.IsAbs(v) {
		return exchange.InputError(f.PathEnv, "%q is not an absolute path", v)
	}
	v = path.Clean(v)
	literal, ok := strings.CutPrefix(v, c.root)
	if !ok || !strings.HasPrefix(literal, "/github/") {
		var err error
		if literal, err = c.paths.ToContainer(v); err != nil {
			literal = ""
		}
	}
	under := func(mount string) bool { return strings.HasPrefix(literal, mount+"/") }
	switch {
	case under(ContainerWorkspace):
		return exchange.InputError(f.PathEnv, "%s is in the workspace; credentials do not belong there, "+
			"where they get committed, uploaded or deleted by a checkout: point it into ${{ runner.temp }} or unset it", v)
	case under(ContainerHome), c.paths.RunnerTempMounted && under(ContainerRunnerTemp):
	default:
		mounts := fmt.Sprintf("%s (%s/_github_home)", ContainerHome, c.paths.HostTemp)
		if c.paths.RunnerTempMounted {
			mounts = fmt.Sprintf("%s (%s) and %s", ContainerRunnerTemp, c.paths.HostTemp, mounts)
		}
		return exchange.InputError(f.PathEnv, "%s is outside the directories this container action shares with later steps, %s; "+
			"point it into one of them or unset it", v, mounts)
	}
	host, err := c.paths.ToHost(literal)
	if err != nil {
		return exchange.InputError(f.PathEnv, "cannot tell the host path of %s: %v", v, err)
	}
	f.dir, f.name, f.host = c.root+path.Dir(literal), path.Base(literal), host
	return nil
}

// stageName returns a fresh name for a staged file or a backup. The caller
// holds e.mu, which guards random.
func stageName(random io.Reader, ext string) (string, error) {
	var b [fileRandomBytes]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for a file name: %w", err)
	}
	return stagePrefix + hex.EncodeToString(b[:]) + ext, nil
}

// readShared reads name in root, the current shared file. It returns
// nil, false when there is none. Anything but a regular file is refused;
// a file swapped between the checks too.
func readShared(root *os.Root, name, pathEnv, shown string) ([]byte, bool, error) {
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", shown, err)
	}
	if !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.Mode()&fs.ModeSymlink != 0 {
			what = "a symbolic link"
		}
		return nil, false, exchange.InputError(pathEnv, "%s is %s; refusing to write through it", shown, what)
	}
	// A second hard link could make a file of someone else's (the
	// container runs as root) look like the shared file, and the merge
	// would copy it into a file the runner user can read.
	if n, ok := statLinks(fi); ok && n > 1 {
		return nil, false, exchange.InputError(pathEnv, "%s has %d hard links; refusing to read it", shown, n)
	}
	fh, err := root.Open(name)
	if err != nil {
		return nil, false, fmt.Errorf("opening %s: %w", shown, err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !os.SameFile(fi, st) {
		return nil, false, fmt.Errorf("%s changed while it was being opened", shown)
	}
	b, err := io.ReadAll(io.LimitReader(fh, sharedini.MaxFileSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", shown, err)
	}
	if len(b) > sharedini.MaxFileSize {
		return nil, false, exchange.InputError(pathEnv, "%s is larger than %d bytes, too large for a shared credentials file", shown, sharedini.MaxFileSize)
	}
	return b, true, nil
}

// stageFile creates a new private file in root with content, synced and
// closed, and returns its name. On failure nothing is left behind.
func stageFile(root *os.Root, dir string, content []byte, random io.Reader) (string, error) {
	var lastErr error
	for range fileAttempts {
		name, err := stageName(random, ".tmp")
		if err != nil {
			return "", err
		}
		lastErr = writeNewFile(root, dir, name, exchange.NewSecret(string(content)))
		if errors.Is(lastErr, fs.ErrExist) {
			continue
		}
		if lastErr != nil {
			return "", lastErr
		}
		return name, nil
	}
	return "", lastErr
}

// writeShared merges the sections into every file and replaces them, all
// or nothing: on failure every file is as it was. On success the caller
// must call finishShared once the export has succeeded, or rollbackShared
// if it then fails. The caller holds e.mu.
func (e *Edge) writeShared(files []*sharedFile) error {
	if err := e.replaceShared(files); err != nil {
		return errors.Join(err, rollbackShared(files))
	}
	return nil
}

// replaceShared stages, backs up and renames; see writeShared.
func (e *Edge) replaceShared(files []*sharedFile) error {
	for _, f := range files {
		if err := e.stageShared(f); err != nil {
			return err
		}
	}
	// Keep each old file under a second name, so that it can be put back
	// by a rename, which either happens or does not.
	for _, f := range files {
		if f.existed {
			if err := e.backUpShared(f); err != nil {
				return err
			}
		}
	}
	for _, f := range files {
		if err := f.root.Rename(f.tmp, f.name); err != nil {
			return fmt.Errorf("replacing %s: %w", f.host, err)
		}
		f.tmp, f.committed = "", true
	}
	return nil
}

// stageShared reads f, merges its sections and writes the result next to
// it.
func (e *Edge) stageShared(f *sharedFile) error {
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return fmt.Errorf("opening the directory of %s (%s): %w", f.host, f.PathEnv, err)
	}
	f.root = root
	old, existed, err := readShared(root, f.name, f.PathEnv, f.host)
	if err != nil {
		return err
	}
	merged, err := sharedini.Merge(old, f.Sections, f.PathEnv, f.host)
	var exists *sharedini.SectionExistsError
	switch {
	case errors.As(err, &exists):
		return err
	case err != nil:
		return exchange.InputError(f.PathEnv, "cannot merge into %s: %v", f.host, err)
	}
	f.existed = existed
	tmp, err := stageFile(root, f.dir, merged, e.random)
	if err != nil {
		return fmt.Errorf("writing next to %s: %w", f.host, err)
	}
	f.tmp = tmp
	return nil
}

// backUpShared links f's current file to a fresh name.
func (e *Edge) backUpShared(f *sharedFile) error {
	var err error
	for range fileAttempts {
		var name string
		if name, err = stageName(e.random, ".bak"); err != nil {
			return err
		}
		if err = f.root.Link(f.name, name); err == nil {
			f.backup = name
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return fmt.Errorf("keeping the old %s while it is replaced: %w", f.host, err)
}

// rollbackShared puts every file back as it was and removes what
// writeShared created. It returns what it could not undo.
func rollbackShared(files []*sharedFile) error {
	var errs []error
	for _, f := range files {
		if f.root == nil {
			continue
		}
		if f.committed {
			var err error
			if f.existed {
				err = f.root.Rename(f.backup, f.name)
				if err == nil {
					f.backup = ""
				}
			} else {
				err = f.root.Remove(f.name)
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("restoring %s after the failed export: %w", f.host, err))
			}
			f.committed = false
		}
		for _, n := range []string{f.tmp, f.backup} {
			if n == "" {
				continue
			}
			if err := f.root.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing %s next to %s after the failed export: %w", n, f.host, err))
			}
		}
		f.tmp, f.backup = "", ""
		f.root.Close()
		f.root = nil
	}
	return errors.Join(errs...)
}

// finishShared removes the backups after a successful export. A backup
// that cannot be removed is only reported: the export has happened, and
// the runner empties its temp directory after the job.
func (e *Edge) finishShared(files []*sharedFile) {
	for _, f := range files {
		if f.root == nil {
			continue
		}
		if f.backup != "" {
			if err := f.root.Remove(f.backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
				e.logger.Warn("could not remove the previous version of a shared file", "path", f.host, "error", err)
			}
		}
		f.root.Close()
		f.root = nil
		e.logger.Debug("merged sections into a shared file", "path", f.host, "sections", strings.Join(f.SectionNames(), ","),
			"created", !f.existed)
	}
}

// mergeRecords adds the files of one export to the records of earlier
// exports of the same step: a file already listed gains the new sections,
// and stays created if an earlier export created it.
func mergeRecords(records []sharedRecord, files []*sharedFile) []sharedRecord {
	out := make([]sharedRecord, 0, len(records)+len(files))
	for _, r := range records {
		r.Sections = slices.Clone(r.Sections)
		out = append(out, r)
	}
	for _, f := range files {
		i := slices.IndexFunc(out, func(r sharedRecord) bool { return r.Path == f.container() })
		if i < 0 {
			out = append(out, sharedRecord{Path: f.container(), Created: !f.existed})
			i = len(out) - 1
		}
		for _, n := range f.SectionNames() {
			if !slices.Contains(out[i].Sections, n) {
				out[i].Sections = append(out[i].Sections, n)
			}
		}
	}
	return out
}

// encodeRecords renders the state value.
func encodeRecords(records []sharedRecord) (string, error) {
	b, err := json.Marshal(records)
	if err != nil {
		return "", fmt.Errorf("encoding the shared files for the post step: %w", err)
	}
	return string(b), nil
}

// cleanupShared is the shared-file part of [Edge.Cleanup]: for each
// record of the state, remove the sections the main step wrote and, when
// it created the file and nothing is left, the file. A missing file is
// fine; a symbolic link or other non-regular file is left alone with a
// warning.
func (e *Edge) cleanupShared(state string) []error {
	var records []sharedRecord
	if err := json.Unmarshal([]byte(state), &records); err != nil {
		e.logger.Warn("ignoring unreadable shared-file state", "error", err)
		return nil
	}
	var errs []error
	for _, r := range records {
		if err := e.cleanupRecord(r); err != nil {
			errs = append(errs, fmt.Errorf("removing sections from %s: %w", r.Path, err))
		}
	}
	return errs
}

func (e *Edge) cleanupRecord(r sharedRecord) error {
	if !filepath.IsAbs(r.Path) || filepath.Clean(r.Path) != r.Path {
		e.logger.Warn("not touching a shared file listed in the saved state", "path", r.Path, "reason", errNotRemovable)
		return nil
	}
	root, err := os.OpenRoot(filepath.Dir(r.Path))
	if errors.Is(err, fs.ErrNotExist) {
		e.logger.Debug("shared file already gone", "path", r.Path)
		return nil
	}
	if err != nil {
		return err
	}
	defer root.Close()
	name := filepath.Base(r.Path)
	content, ok, err := readShared(root, name, "shared file", r.Path)
	if errors.Is(err, exchange.ErrInvalidInput) {
		// A symbolic link, a directory or a file too large: not ours.
		e.logger.Warn("not touching a shared file listed in the saved state", "path", r.Path, "reason", err)
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		e.logger.Debug("shared file already gone", "path", r.Path)
		return nil
	}
	out, removed, empty, err := sharedini.Remove(content, r.Sections)
	if err != nil {
		return err
	}
	if r.Created && (empty || (!removed && len(bytes.TrimSpace(content)) == 0)) {
		if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		e.logger.Info("removed shared file", "path", r.Path)
		return nil
	}
	if !removed {
		e.logger.Debug("sections already gone from shared file", "path", r.Path)
		return nil
	}
	e.mu.Lock()
	tmp, err := stageFile(root, filepath.Dir(r.Path), out, e.random)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := root.Rename(tmp, name); err != nil {
		_ = root.Remove(tmp)
		return err
	}
	e.logger.Info("removed sections from shared file", "path", r.Path, "sections", strings.Join(r.Sections, ","))
	return nil
}
