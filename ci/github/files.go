package github

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Credential files ([exchange.File]) are written by [Edge.Export] for later
// steps of the job. Where and how, and why:
//
//   - Directory: /github/runner_temp when the runner mounts it, else
//     /github/home ([fileDir]); natively, RUNNER_TEMP
//     ([nativeLocation]). All live under the host's <work>/_temp, which
//     the runner owns and empties after the job. Never
//     the workspace: files there get committed, uploaded as artifacts or
//     baked into images (google-github-actions/auth #123, #298, #497), and a
//     later actions/checkout deletes them while the exported path still
//     points at them (#212, #386).
//   - Name: Prefix + 16 random hex digits + Ext, created with O_EXCL so an
//     existing file or a planted symlink is never written through.
//   - Mode 0600, set again with fchmod so the umask cannot widen or narrow
//     it, and, when we run as root, owned by the directory's owner; see
//     [fileOwner]. On Windows a protected DACL instead ([createPrivate]).
//   - Exported by its host path ([Paths.ToHost]), which later host steps
//     use as-is and the runner translates for later container steps;
//     natively by the path it has.
//   - Listed by its container path in [StateFiles], always, so the post
//     step removes it whatever was exported (google-github-actions/auth
//     skips its cleanup when export_environment_variables is false).

const (
	// fileRandomBytes gives the 16 hex digits of a file name: 64 bits, so
	// names cannot be guessed ahead of time, as google-github-actions/auth
	// names gha-creds-<16 hex>.json.
	fileRandomBytes = 8
	// fileAttempts bounds new names after O_EXCL finds one taken. With
	// crypto/rand a collision never happens by chance.
	fileAttempts = 3
	// maxFileAffix bounds Prefix and Ext; names stay far below NAME_MAX.
	maxFileAffix = 64
	// fileMode is owner read/write only: the files hold credentials (a
	// GCP external_account file holds the runner's ID-token request
	// token, which can mint tokens for any audience until the job ends).
	fileMode fs.FileMode = 0o600
)

// plannedFile is one file Export is about to create.
type plannedFile struct {
	spec exchange.File
	// container is the path as this process opens it: /github/… in a
	// real container, or under a simulated root in tests.
	container string
	// host is the path exported to later steps.
	host string
	// created is set once the file exists, so a failure can remove it.
	created bool
}

// fileDir locates the directory for credential files: where this process
// opens it (dir) and its literal container path (/github/runner_temp or
// /github/home), which [Paths.ToHost] translates.
//
// The directory is read from the environment rather than hard-coded:
// RUNNER_TEMP when the runner temp is mounted, else HOME, which the runner
// always sets to /github/home for container actions. Only the suffix is
// checked, so a test can place the container's "/" anywhere (see package
// githubtest); in a real container the prefix is empty.
func fileDir(getenv func(string) string, p Paths) (dir, literal string, err error) {
	variable, literal := "HOME", ContainerHome
	if p.RunnerTempMounted {
		variable, literal = "RUNNER_TEMP", ContainerRunnerTemp
	}
	v := strings.TrimSpace(getenv(variable))
	if v == "" || !path.IsAbs(v) {
		return "", "", fmt.Errorf("%s is %q, not an absolute path: cannot place credential files", variable, v)
	}
	dir = path.Clean(v)
	root, ok := strings.CutSuffix(dir, literal)
	if !ok || (root != "" && (!path.IsAbs(root) || path.Clean(root) != root)) {
		return "", "", fmt.Errorf("%s is %q, not %s: credential files can only be written by the container action, "+
			"whose mounts the runner shares with later steps", variable, dir, literal)
	}
	if strings.ContainsAny(dir, ",\r\n") {
		// StateFiles is a comma-separated list.
		return "", "", fmt.Errorf("%s is %q, which cannot be listed in the saved state", variable, dir)
	}
	// Defence in depth: the workspace is never a place for credentials,
	// even if the environment were arranged to make it look like one.
	if ws := strings.TrimSpace(getenv("GITHUB_WORKSPACE")); ws != "" && path.IsAbs(ws) {
		ws = path.Clean(ws)
		if dir == ws || strings.HasPrefix(dir, ws+"/") {
			return "", "", fmt.Errorf("refusing to write credential files in the workspace %s", ws)
		}
	}
	return dir, literal, nil
}

// checkAffix validates a file's Prefix or Ext: letters, digits, '.', '_'
// and '-' only, so the name has no path separator, no ',' (state lists
// paths comma-separated) and nothing a shell or the runner would
// interpret.
func checkAffix(what, s string) error {
	if len(s) > maxFileAffix {
		return fmt.Errorf("credential file %s is longer than %d bytes", what, maxFileAffix)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("credential file %s %q may contain only letters, digits, '.', '_' and '-'", what, exchange.Sanitize(s))
		}
	}
	return nil
}

// checkFile validates a file before anything is created.
func checkFile(f exchange.File) error {
	if err := checkAffix("prefix", f.Prefix); err != nil {
		return err
	}
	if err := checkAffix("extension", f.Ext); err != nil {
		return err
	}
	if f.Content.IsZero() {
		return fmt.Errorf("credential file %q has no content", f.Prefix+"…"+f.Ext)
	}
	return nil
}

// fileLocation is where credential files are created and which path of
// each one later steps get.
type fileLocation struct {
	// dir is the directory as this process opens it.
	dir string
	// exported maps a file name in dir to the path exported to later
	// steps.
	exported func(name string) (string, error)
}

// containerLocation places files for a container action: in dir (see
// [fileDir]), exported by their host path, since later host steps cannot
// open a container path.
func containerLocation(dir, literal string, paths Paths) fileLocation {
	return fileLocation{dir: dir, exported: func(name string) (string, error) {
		host, err := paths.ToHost(literal + "/" + name)
		if err != nil {
			// Exporting a container path would work only for later
			// container actions; fail instead.
			return "", fmt.Errorf("cannot export the credential file's host path: %w", err)
		}
		return host, nil
	}}
}

// nativeLocation places files for a program that runs as a step of its
// own ([Config.Native]): in RUNNER_TEMP, which later steps see under the
// same path. The runner creates that directory for the job, owns it, and
// empties it when the job ends, on hosted and self-hosted runners alike.
func nativeLocation(getenv func(string) string) (fileLocation, error) {
	v := strings.TrimSpace(getenv("RUNNER_TEMP"))
	if v == "" || !filepath.IsAbs(v) {
		return fileLocation{}, fmt.Errorf("RUNNER_TEMP is %q, not an absolute path: cannot place credential files", v)
	}
	dir := filepath.Clean(v)
	if strings.ContainsAny(dir, ",\r\n") {
		// StateFiles is a comma-separated list.
		return fileLocation{}, fmt.Errorf("RUNNER_TEMP is %q, which cannot be listed in the saved state", dir)
	}
	if ws := strings.TrimSpace(getenv("GITHUB_WORKSPACE")); ws != "" && filepath.IsAbs(ws) && within(dir, ws) {
		return fileLocation{}, fmt.Errorf("refusing to write credential files in the workspace %s", ws)
	}
	return fileLocation{dir: dir, exported: func(name string) (string, error) {
		return filepath.Join(dir, name), nil
	}}, nil
}

// within reports whether p is parent or inside it, comparing as the
// platform does (case-insensitively on Windows).
func within(p, parent string) bool {
	rel, err := filepath.Rel(filepath.Clean(parent), p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// createFiles plans and creates every file in order: a name from random,
// its exported path, then the file itself. It stops at the first failure;
// the caller removes what was created (see removeFiles). The caller holds
// e.mu, which also guards random.
func createFiles(files []plannedFile, loc fileLocation, random io.Reader) error {
	root, err := os.OpenRoot(loc.dir)
	if err != nil {
		return fmt.Errorf("opening the directory for credential files: %w", err)
	}
	defer root.Close()
	for i := range files {
		f := &files[i]
		var lastErr error
		for range fileAttempts {
			var b [fileRandomBytes]byte
			if _, err := io.ReadFull(random, b[:]); err != nil {
				return fmt.Errorf("reading random bytes for a credential file name: %w", err)
			}
			name := f.spec.Prefix + hex.EncodeToString(b[:]) + f.spec.Ext
			exported, err := loc.exported(name)
			if err != nil {
				return err
			}
			f.container, f.host = filepath.Join(loc.dir, name), exported
			lastErr = writeNewFile(root, loc.dir, name, f.spec.Content)
			if errors.Is(lastErr, fs.ErrExist) {
				continue
			}
			if lastErr == nil {
				f.created = true
			}
			break
		}
		if lastErr != nil {
			return fmt.Errorf("creating credential file in %s: %w", loc.dir, lastErr)
		}
	}
	return nil
}

// writeNewFile creates name in root (the directory dir), exclusively and
// private to the runner user (see [createPrivate]), writes content and
// syncs. On any failure after creation it removes the file again. Errors
// never include the content.
func writeNewFile(root *os.Root, dir, name string, content exchange.Secret) (err error) {
	f, err := createPrivate(root, dir, name)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			// Best effort: the error returned says why the write failed.
			_ = root.Remove(name)
		}
	}()
	if _, err := io.WriteString(f, content.Reveal()); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	// Sync before exporting the path: a later step must never find an
	// empty or partial credential file.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", name, err)
	}
	return nil
}

// fileOwner returns the uid and gid that should own a credential file: the
// owner of its directory, as stat reports it.
//
// Container actions run as root (the runner passes no --user, and a
// non-root image cannot write the file commands), so a file created in a
// bind mount is root-owned on the host, where later steps run as the
// runner user (uid 1001 on hosted runners). With mode 0600 they could not
// read it, and 0644 would make it readable by every user of a shared
// self-hosted machine. Giving the file to the owner of the mounted
// directory — the runner user who created <work>/_temp — keeps it private
// and readable by the steps it is for, and lets the runner remove it like
// any other file of its temp directory.
func fileOwner(stat func() (fs.FileInfo, error)) (uid, gid int, err error) {
	fi, err := stat()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the owner of the credential file directory: %w", err)
	}
	uid, gid, ok := statOwner(fi)
	if !ok {
		return 0, 0, errors.New("cannot tell who owns the credential file directory on this platform")
	}
	return uid, gid, nil
}

// giveToDirOwner gives f (called name in errors) to the owner of its
// directory, as dirStat reports it, when this process runs as root;
// otherwise the file already belongs to the user who runs the job's steps.
func giveToDirOwner(f *os.File, name string, dirStat func() (fs.FileInfo, error)) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := fileOwner(dirStat)
	if err != nil {
		return err
	}
	if err := f.Chown(uid, gid); err != nil {
		return fmt.Errorf("giving %s to uid %d, gid %d: %w", name, uid, gid, err)
	}
	return nil
}

// removeFiles removes the files created so far, after a failed Export.
// It returns the removal errors; the caller joins them with the failure.
func removeFiles(files []plannedFile) error {
	var errs []error
	for _, f := range files {
		if !f.created {
			continue
		}
		if err := os.Remove(f.container); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing credential file %s after the failed export: %w", f.container, err))
		}
	}
	return errors.Join(errs...)
}
