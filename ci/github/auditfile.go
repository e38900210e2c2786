package github

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
)

// AuditFile returns the reporter for the audit-log input: p is the path
// as the user gave it, checked before anything runs.
//
// A container action sees only its mounts: a file anywhere else is written
// into the container and lost when the step ends, so in a container p must
// lie in the workspace (where a relative p is resolved: the runner starts
// the container there), in /github/home, or in /github/runner_temp on
// runners that mount it. The runner translates an input that starts with
// a mounted host path, such as ${{ runner.temp }}/audit.jsonl, into the
// container path; on runners before v2.331.0 that is no mount, and the
// error says so. A native step may write anywhere; a relative path is
// resolved against its working directory, the workspace.
//
// A file the reporter creates is given to the owner of its directory when
// running as root, as credential files are, so the runner user's later
// steps (an upload of the audit log, say) can read it.
func (e *Edge) AuditFile(p string) (*exchange.AuditFile, error) {
	f := &exchange.AuditFile{Path: p, Created: func(fh *os.File) error {
		return giveToDirOwner(fh, fh.Name(), func() (fs.FileInfo, error) { return os.Stat(filepath.Dir(fh.Name())) })
	}}
	if e.native {
		return f, nil
	}
	mounts := []struct{ variable, literal string }{
		{"GITHUB_WORKSPACE", ContainerWorkspace},
		{"HOME", ContainerHome},
		{"RUNNER_TEMP", ContainerRunnerTemp},
	}
	// The variables hold container paths; a simulated container root
	// (package githubtest) only adds a prefix, as in fileDir.
	var dirs []string
	for _, m := range mounts {
		d := path.Clean(strings.TrimSpace(e.getenv(m.variable)))
		if path.IsAbs(d) && strings.HasSuffix(d, m.literal) {
			dirs = append(dirs, d)
		}
	}
	if !path.IsAbs(p) {
		if len(dirs) == 0 || !strings.HasSuffix(dirs[0], ContainerWorkspace) {
			return nil, exchange.InputError("audit-log", "%q is relative, and GITHUB_WORKSPACE is not the container's workspace", p)
		}
		p = path.Join(dirs[0], p)
	}
	p = path.Clean(p)
	for _, d := range dirs {
		if p != d && strings.HasPrefix(p, d+"/") {
			f.Path = p
			return f, nil
		}
	}
	return nil, exchange.InputError("audit-log", "%q is not in the workspace, %s or %s: the action runs in a container, "+
		"where a file anywhere else is lost when the step ends (%s is mounted by runner v2.331.0 and later)",
		p, ContainerHome, ContainerRunnerTemp, ContainerRunnerTemp)
}
