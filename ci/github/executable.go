package github

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// executableMode lets the runner user run the copy and no one else
// change it.
const executableMode fs.FileMode = 0o700

// Installed is a copy of this program that later steps can run.
type Installed struct {
	// Host is the path later steps run it by.
	Host string
	// Container is the path this process wrote it at (the host path in
	// a native step).
	Container string
	// SHA256 is the hex digest of the copy, checked against the source.
	SHA256 string
}

// InstallExecutable copies the program at src (os.Executable) where later
// steps of the job can run it: a credential_process that refreshes AWS
// credentials runs on the host, where a container action's binary is not.
// The copy goes where credential files go (the runner temp directory,
// see [Edge.Export]), named oidc-exchange-<16 random hex digits>, created
// exclusively with mode 0700 and given to the runner user; it is
// fingerprinted while written, read back and compared, so a torn or
// altered copy is never handed out. Its container path is saved in
// [StateFiles] at once, before any export, so the post step removes it
// even when the exchange that follows fails.
func (e *Edge) InstallExecutable(src string) (Installed, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	loc, err := e.fileLocation()
	if err != nil {
		return Installed{}, err
	}
	in, err := os.Open(src)
	if err != nil {
		return Installed{}, fmt.Errorf("opening this program to copy it: %w", err)
	}
	defer in.Close()
	root, err := os.OpenRoot(loc.dir)
	if err != nil {
		return Installed{}, fmt.Errorf("opening the runner temp directory: %w", err)
	}
	defer root.Close()
	var b [fileRandomBytes]byte
	if _, err := io.ReadFull(e.random, b[:]); err != nil {
		return Installed{}, fmt.Errorf("reading random bytes for the copy's name: %w", err)
	}
	name := "oidc-exchange-" + hex.EncodeToString(b[:])
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	host, err := loc.exported(name)
	if err != nil {
		return Installed{}, err
	}
	sum, err := copyExecutable(root, name, in)
	if err != nil {
		return Installed{}, err
	}
	container := filepath.Join(loc.dir, name)
	files := append(append([]string(nil), e.files...), container)
	if err := e.writeFileCommands([]batch{{kind: kindState, entries: []entry{
		{name: StateFiles, value: strings.Join(files, ",")},
		{name: StatePost, value: "true"},
	}}}); err != nil {
		return Installed{}, errors.Join(err, root.Remove(name))
	}
	e.files = files
	e.logger.Debug("installed a copy of this program for later steps", "path", host, "sha256", sum)
	return Installed{Host: host, Container: container, SHA256: sum}, nil
}

// copyExecutable writes src to name in root, exclusively, and returns the
// digest that both the source stream and the written file have. On any
// failure the copy is removed.
func copyExecutable(root *os.Root, name string, src io.Reader) (sum string, err error) {
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, executableMode)
	if err != nil {
		return "", fmt.Errorf("creating the copy of this program: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = root.Remove(name)
		}
	}()
	if err := f.Chmod(executableMode); err != nil {
		return "", fmt.Errorf("setting the mode of %s: %w", name, err)
	}
	if err := giveToDirOwner(f, name, func() (fs.FileInfo, error) { return root.Stat(".") }); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), src); err != nil {
		return "", fmt.Errorf("copying this program: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("closing %s: %w", name, err)
	}
	want := h.Sum(nil)
	back, err := root.Open(name)
	if err != nil {
		return "", fmt.Errorf("reading back %s: %w", name, err)
	}
	defer back.Close()
	h.Reset()
	if _, err := io.Copy(h, back); err != nil {
		return "", fmt.Errorf("reading back %s: %w", name, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return "", fmt.Errorf("the copy %s differs from this program (sha256 %x, want %x)", name, got, want)
	}
	return hex.EncodeToString(want), nil
}

// HostPath is the path later host steps know p by: p itself in a native
// step, else its translation out of the container's mounts. As for
// credential files, the mount directories are read from the environment
// and only their suffix is checked, so a simulated container root
// (package githubtest) works as the real one.
func (e *Edge) HostPath(p string) (string, error) {
	if e.native {
		return filepath.Abs(p)
	}
	paths, err := NewPaths(e.getenv, e.hostRunnerTemp)
	if err != nil {
		return "", err
	}
	p = path.Clean(p)
	for _, m := range []struct{ variable, literal string }{
		{"GITHUB_WORKSPACE", ContainerWorkspace},
		{"HOME", ContainerHome},
		{"RUNNER_TEMP", ContainerRunnerTemp},
	} {
		d := path.Clean(strings.TrimSpace(e.getenv(m.variable)))
		if !path.IsAbs(d) || !strings.HasSuffix(d, m.literal) {
			continue
		}
		if rest, ok := strings.CutPrefix(p, d+"/"); ok {
			return paths.ToHost(m.literal + "/" + rest)
		}
	}
	return "", fmt.Errorf("%s is in none of the container's mounts", p)
}
