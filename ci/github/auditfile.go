package github

import (
	"io/fs"
	"os"
	"path/filepath"

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
	clean, _, ok, err := inMounts(e.getenv, "audit-log", p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, exchange.InputError("audit-log", "%q is not in the workspace, %s or %s: the action runs in a container, "+
			"where a file anywhere else is lost when the step ends (%s is mounted by runner v2.331.0 and later)",
			clean, ContainerHome, ContainerRunnerTemp, ContainerRunnerTemp)
	}
	f.Path = clean
	return f, nil
}
