package github

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// Export implements [exchange.Exporter]. It writes each of c.Files (see
// below), merges c.Sections into their shared files, then appends c.Env,
// the files' PathEnv variables and the shared files' path variables to
// GITHUB_ENV, c.Outputs and the files' PathOutputs to GITHUB_OUTPUT, and to
// GITHUB_STATE the names of the exported variables ([StateExportedEnv]),
// the post marker ([StatePost]), the container paths of the files
// ([StateFiles]) and the shared files with the sections written into them
// ([StateSections]), each value in heredoc form with its own random
// delimiter.
//
// Everything is validated before anything is created or written:
// environment names must match ^[A-Za-z_][A-Za-z0-9_]*$ and must not be
// NODE_OPTIONS, output names ^[A-Za-z_][A-Za-z0-9_-]*$, values must be
// valid UTF-8 and must not contain their delimiter. GITHUB_STATE must be
// set, and GITHUB_ENV and GITHUB_OUTPUT when there is something to write to
// them (runner v2.297.0 or later). State is written first, so the post step
// learns which names to blank and which files to remove even if a later
// write fails.
//
// Each credential file is created in the runner temp directory when the
// runner mounts it (/github/runner_temp), else in /github/home, or with
// [Config.Native] in RUNNER_TEMP — never in the workspace — named Prefix + 16 random hex digits + Ext, exclusively,
// with mode 0600, owned by the directory's owner when running as root,
// written and synced before its path is exported. Later steps get its host
// path ([Paths.ToHost], from [Config.HostRunnerTemp]); when that cannot be
// determined Export fails rather than export a container path. Export is
// all or nothing: if a file or a file command cannot be written, the files
// this call created are removed and an error is returned.
//
// Sections ([exchange.Section]) go into the file their PathEnv names in the
// step's environment, or oidc-exchange-<File> next to the credential
// files; the merge keeps every other section and comment, refuses an
// existing section unless it may be replaced (sharedini.SectionExistsError),
// refuses symbolic links and files outside the directories shared with
// later steps, and replaces each file by a private (0600) one with a
// rename, undone if anything later fails. See shared.go and package
// internal/sharedini for the rules and why.
//
// Export prints nothing to stdout; values must already be masked, which
// [exchange.Pipeline] guarantees. File contents are never printed or
// logged; host paths are logged at debug level.
func (e *Edge) Export(ctx context.Context, c *exchange.Credentials) error {
	if c == nil {
		return errors.New("no credentials to export")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("exporting credentials: %w", err)
	}
	env := entries(c.Env)
	outputs := entries(c.Outputs)
	// The files' path variables follow the provider's variables; their
	// values are filled in once the files exist.
	envPaths, outputPaths := len(env), len(outputs)
	files := make([]plannedFile, 0, len(c.Files))
	for _, f := range c.Files {
		if err := checkFile(f); err != nil {
			return err
		}
		files = append(files, plannedFile{spec: f})
		for _, n := range f.PathEnv {
			env = append(env, entry{name: n})
		}
		for _, n := range f.PathOutputs {
			outputs = append(outputs, entry{name: n})
		}
	}
	// The shared files' path variables come last.
	shared, err := planShared(c.Sections)
	if err != nil {
		return err
	}
	for _, f := range shared {
		env = append(env, entry{name: f.PathEnv})
	}
	// Validate names and values now: nothing may be created for an
	// export that is bound to fail.
	for _, b := range []batch{{kind: kindEnv, entries: env}, {kind: kindOutput, entries: outputs}} {
		if err := checkBatch(b); err != nil {
			return err
		}
	}
	if len(shared) > 0 {
		if err := e.locateShared(shared); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(env))
	for _, v := range env {
		names = append(names, v.name)
	}

	e.mu.Lock()
	err = e.export(env, outputs, files, shared, envPaths, outputPaths, names)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	for _, f := range files {
		e.logger.Debug("wrote credential file", "path", f.host)
	}
	e.logger.Debug("exported credentials", "env", strings.Join(names, ","), "outputs", len(outputs), "files", len(files))
	return nil
}

// export creates the files, merges the shared files and writes the file
// commands. The caller holds e.mu.
func (e *Edge) export(env, outputs []entry, files []plannedFile, shared []*sharedFile, envPaths, outputPaths int, names []string) (err error) {
	stateFiles, stateShared := e.files, e.shared
	if len(files) > 0 || len(shared) > 0 {
		// A runner without file commands fails the export before any
		// file is touched.
		if err := e.checkCommandFiles(len(env) > 0, len(outputs) > 0); err != nil {
			return err
		}
	}
	if len(files) > 0 {
		if err := e.createAll(files); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				err = errors.Join(err, removeFiles(files))
			}
		}()
		stateFiles = slices.Clone(e.files)
		for _, f := range files {
			stateFiles = append(stateFiles, f.container)
			for range f.spec.PathEnv {
				env[envPaths].value = f.host
				envPaths++
			}
			for range f.spec.PathOutputs {
				outputs[outputPaths].value = f.host
				outputPaths++
			}
		}
	}
	if len(shared) > 0 {
		if err := e.writeShared(shared); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				err = errors.Join(err, rollbackShared(shared))
			} else {
				e.finishShared(shared)
			}
		}()
		for _, f := range shared {
			env[envPaths].value = f.host
			envPaths++
		}
		stateShared = mergeRecords(e.shared, shared)
	}
	state := []entry{
		{name: StateExportedEnv, value: strings.Join(names, ",")},
		{name: StatePost, value: "true"},
	}
	if len(stateFiles) > 0 {
		state = append(state, entry{name: StateFiles, value: strings.Join(stateFiles, ",")})
	}
	if len(stateShared) > 0 {
		v, err := encodeRecords(stateShared)
		if err != nil {
			return err
		}
		state = append(state, entry{name: StateSections, value: v})
	}
	batches := []batch{{kind: kindState, entries: state}}
	if len(outputs) > 0 {
		batches = append(batches, batch{kind: kindOutput, entries: outputs})
	}
	if len(env) > 0 {
		batches = append(batches, batch{kind: kindEnv, entries: env})
	}
	if err := e.writeFileCommands(batches); err != nil {
		return err
	}
	// A second Export in the same step rewrites the state keys; keep the
	// files of the first one listed too.
	e.files, e.shared = stateFiles, stateShared
	return nil
}

// checkCommandFiles checks that the file commands an export writes exist.
func (e *Edge) checkCommandFiles(withEnv, withOutputs bool) error {
	kinds := []fileKind{kindState}
	if withEnv {
		kinds = append(kinds, kindEnv)
	}
	if withOutputs {
		kinds = append(kinds, kindOutput)
	}
	for _, k := range kinds {
		f, err := openCommandFile(e.getenv, k.variable())
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// createAll locates the directory and creates the files. On failure it
// removes whatever it created.
func (e *Edge) createAll(files []plannedFile) error {
	loc, err := e.fileLocation()
	if err != nil {
		return err
	}
	if err := createFiles(files, loc, e.random); err != nil {
		return errors.Join(err, removeFiles(files))
	}
	return nil
}

// fileLocation says where credential files go: RUNNER_TEMP for a native
// step, else the container's mount of the runner temp directory.
func (e *Edge) fileLocation() (fileLocation, error) {
	if e.native {
		return nativeLocation(e.getenv)
	}
	paths, err := NewPaths(e.getenv, e.hostRunnerTemp)
	if err != nil {
		return fileLocation{}, fmt.Errorf("locating the runner temp directory for credential files: %w", err)
	}
	dir, literal, err := fileDir(e.getenv, paths)
	if err != nil {
		return fileLocation{}, err
	}
	return containerLocation(dir, literal, paths), nil
}

func entries(vars []exchange.Variable) []entry {
	out := make([]entry, 0, len(vars))
	for _, v := range vars {
		out = append(out, entry{name: v.Name, value: v.Value.Reveal()})
	}
	return out
}

// splitList splits a comma-separated state value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Cleanup is the post step. It reads STATE_exported_env, STATE_files and
// STATE_sections, appends an empty value for each exported name to
// GITHUB_ENV — as aws-actions/configure-aws-credentials' cleanup does, so
// later post steps of the job see no credentials — removes each listed
// file if it is a regular file (a missing file is fine; a symlink or
// directory is left alone with a warning), and removes the main step's
// sections from each shared file, keeping every other section, and the
// file itself when the main step created it and nothing else is left.
//
// When the main step saved nothing (it failed before exporting, or was
// skipped) Cleanup logs that there is nothing to do and returns nil: a post
// step must not fail a job for the main step's sake. It returns an error
// only when a cleanup it should do fails.
func (e *Edge) Cleanup(ctx context.Context) error {
	names := splitList(e.getenv("STATE_" + StateExportedEnv))
	files := splitList(e.getenv("STATE_" + StateFiles))
	shared := strings.TrimSpace(e.getenv("STATE_" + StateSections))
	if len(names) == 0 && len(files) == 0 && shared == "" {
		e.logger.Info("nothing to clean up: the main step exported no variables and created no files")
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cleaning up: %w", err)
	}
	var errs []error
	if len(names) > 0 {
		blank := make([]entry, 0, len(names))
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			// State is written by our main step, but it is still input:
			// never write a name Export itself would refuse.
			if !validName(n, false) || strings.EqualFold(n, nodeOptions) {
				e.logger.Warn("skipping an invalid variable name in the saved state", "name", n)
				continue
			}
			if !seen[n] {
				seen[n] = true
				blank = append(blank, entry{name: n})
			}
		}
		if len(blank) > 0 {
			e.mu.Lock()
			err := e.writeFileCommands([]batch{{kind: kindEnv, entries: blank}})
			e.mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("blanking exported variables: %w", err))
			} else {
				blanked := make([]string, 0, len(blank))
				for _, b := range blank {
					blanked = append(blanked, b.name)
				}
				e.logger.Info("cleared the exported variables for later steps", "names", strings.Join(blanked, ","))
			}
		}
	}
	for _, f := range files {
		removed, err := removeRegular(f)
		switch {
		case errors.Is(err, errNotRemovable):
			e.logger.Warn("not removing a file listed in the saved state", "path", f, "reason", err)
		case err != nil:
			errs = append(errs, fmt.Errorf("removing %s: %w", f, err))
		case removed:
			e.logger.Info("removed credential file", "path", f)
		default:
			e.logger.Debug("credential file already gone", "path", f)
		}
	}
	if shared != "" {
		errs = append(errs, e.cleanupShared(shared)...)
	}
	return errors.Join(errs...)
}

// errNotRemovable marks paths Cleanup refuses to touch.
var errNotRemovable = errors.New("not a regular file at a clean absolute path")

// removeRegular removes p if it is a regular file. It uses Lstat so a
// symlink planted at the path is never followed.
func removeRegular(p string) (bool, error) {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return false, errNotRemovable
	}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, errNotRemovable
	}
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
