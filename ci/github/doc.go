// Package github is the GitHub Actions edge of oidc-exchange: the code that
// talks to the Actions runner. An [Edge] implements the four seams of
// package exchange:
//
//   - [exchange.TokenSource]: [Edge.Token] asks the runner for the job's OIDC
//     token with go-githubactions' GetIDToken, retries only 5xx answers and
//     network failures, and masks the token before returning it.
//   - [exchange.Masker]: [Edge.Mask] registers a value with the runner's log
//     masking (::add-mask::).
//   - [exchange.Exporter]: [Edge.Export] writes credential files, merges
//     sections into shared files (AWS config and credentials), appends
//     variables to GITHUB_ENV, outputs to GITHUB_OUTPUT and bookkeeping to
//     GITHUB_STATE.
//   - [exchange.Reporter]: [Edge.Report] prints the audit record in a log
//     group and appends it to the job summary.
//
// It also implements [exchange.CredentialSourcer]: [Edge.CredentialSource]
// describes the runner's token endpoint (request URL with the audience, the
// bearer request token, JSON field "value") so that a credential file — a
// GCP external_account configuration — can fetch fresh OIDC tokens by itself
// for the rest of the job. A job that reads its token from a file instead
// (web-identity-token-file) gets the file's paths from [Edge.TokenFile],
// which holds a container action to its mounts as [Edge.AuditFile] does.
//
// [Edge.Cleanup] is the post step: it blanks the exported variables,
// removes files the main step created and its sections from shared files. [NewLogHandler] turns log/slog
// records into workflow commands, [PrintUntrusted] prints text the runner
// must not interpret, [DefaultIssuer] derives the OIDC issuer from
// GITHUB_SERVER_URL and [Paths] maps container paths to host paths.
//
// # Why the library is wrapped
//
// github.com/sethvargo/go-githubactions is used where it is sound: the OIDC
// request (it keeps api-version, sets audience and the bearer token, caps the
// body) and the workflow-command escaping of [githubactions.Command]. It is
// wrapped where it is not:
//
//   - Its command and file-command helpers panic on a failed write, and an
//     unset GITHUB_ENV makes them panic too. A credential step must fail
//     with an error, not a stack trace, so every call that can panic is
//     recovered into an error, and file commands are written by this package.
//   - SetEnv, SetOutput and SaveState use one fixed heredoc delimiter. A
//     value containing that line ends the heredoc early and the rest of the
//     value becomes new entries: a credential could smuggle LD_PRELOAD into
//     later steps. We write every value with its own random delimiter
//     (ghadelimiter_ + 128 random bits, as actions/toolkit does), refuse a
//     value that contains it, and validate every name.
//   - GetIDToken does not retry, returns an empty string for a missing value
//     and puts the response body into its error. Token retries 5xx and
//     network failures within a bounded, jittered policy, treats an empty
//     value as an error, and reports status codes only.
//
// # Workflow-command injection
//
// The runner reads workflow commands from every line of the step's stdout:
// a line whose text, after leading white space, starts with "::", and — a
// legacy form still honoured — any line that contains "##[" followed by a
// registered command name, anywhere in the line. The runner splits lines at
// CR as well as LF. Claim values such as branch names are chosen by whoever
// can push to the repository, so everything this package prints keeps them
// inert: command data is escaped (% → %25, CR → %0D, LF → %0A), plain lines
// are passed through [exchange.Sanitize] and have "##[" and a leading "::"
// defused, and the audit JSON escapes every control character and "##[".
//
// # Container and native
//
// The edge serves two ways of running the same binary. As a container
// action (the default), it sees the runner's directories through the
// container's mounts and exports host paths, as below. With
// [Config.Native] it runs as a step of its own on the runner host or in
// the job container (the native action, on Linux, macOS and Windows): the
// paths it sees are the paths later steps see, credential files go to
// RUNNER_TEMP, and nothing is translated. On Windows, file commands end
// their lines with CRLF, as the runner there expects, and credential files
// are created with a protected DACL for the runner user and SYSTEM, since a
// mode means nothing there.
//
// # Post step and paths
//
// A container action's post step runs in a new container, after every main
// step of the job, also when the main step failed. The main step leaves it
// a note in GITHUB_STATE (which the runner hands back as STATE_<key>): the
// names it exported ([StateExportedEnv]), the files it created
// ([StateFiles]) and the sections it wrote into shared files
// ([StateSections]). [Edge.Cleanup] blanks those variables for the job's
// remaining post steps and removes the files and sections, which on a
// self-hosted runner would otherwise outlive the job, root-owned.
//
// # Credential files
//
// Some credentials are files: a GCP external_account configuration, which
// client libraries read through GOOGLE_APPLICATION_CREDENTIALS and which
// holds the runner's ID-token request token so it can refresh itself.
// [Edge.Export] writes each [exchange.File] of the credentials before any
// file command, and the export stays all or nothing: a file that cannot be
// written, or a file command that fails, removes the files of that call and
// exports nothing. The rules, and why:
//
//   - Where: /github/runner_temp when the runner mounts it (v2.331.0 and
//     later; RUNNER_TEMP then says so), else /github/home, which is
//     <work>/_temp/_github_home on the host (fileDir);
//     natively, RUNNER_TEMP itself.
//     Never the workspace: files there end up in commits, artifacts and
//     images, and a later actions/checkout deletes them — the
//     google-github-actions/auth issues (#123, #298, #497, #212) that its
//     workspace file caused.
//   - What name: Prefix + 16 random hex digits + Ext, created with O_EXCL,
//     so no existing file or planted symlink is written through.
//   - Which mode and owner: 0600, set with fchmod so the umask does not
//     matter (on Windows, the DACL above). The container runs as root, so a new file in a bind mount is
//     root-owned on the host, and later steps run as the runner user: as
//     root the file is given to the owner of its directory (the runner
//     user), which keeps it private and readable by the steps it is for.
//   - Which path is exported: the host path ([Paths.ToHost], from
//     [Config.HostRunnerTemp], i.e. ${{ runner.temp }} passed through the
//     action's args). Paths in GITHUB_ENV and GITHUB_OUTPUT are used
//     verbatim; the runner translates host paths into container paths for
//     later container steps, never the reverse, so only the host path works
//     everywhere. When the host path cannot be determined Export fails
//     rather than export a container path. Natively there is only one
//     path.
//   - When it goes: the container path is saved in [StateFiles] whether or
//     not any variable names it, and [Edge.Cleanup] removes it in the post
//     step. google-github-actions/auth finds its file through an exported
//     variable and so leaves it behind when that export is turned off. On
//     a self-hosted runner such a file outlives the job, and while the job
//     runs its request token can mint tokens for any audience.
//
// The content is never printed or logged, nor registered as a mask (each
// line of a JSON document would become one); the secrets inside it are
// masked on their own. The host path is logged at debug level.
//
// # Shared files
//
// Some credentials are sections of a file that other steps share: an AWS
// profile in a config and credentials file pair, which tools find through
// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE. Several roles of one
// step, a later step of the job and the user may all keep profiles there,
// so [Edge.Export] merges each [exchange.Section] into the file rather
// than creating one per step:
//
//   - Which file: the one the step's environment names, else
//     oidc-exchange-<File> in the credential-file directory above, a fixed
//     name so that later steps find it even without the variable. In a
//     container only the runner temp directory and /github/home qualify,
//     never the workspace.
//   - How: with gopkg.in/ini.v1, keeping every other section and comment,
//     refusing an existing section unless [exchange.Section.Replace] says
//     otherwise (sharedini.SectionExistsError), and values written verbatim, as
//     the AWS SDKs read them; what the library and the SDKs would read
//     differently is refused rather than rewritten. A symbolic link is
//     never written through, nor a file with other hard links read.
//   - Which mode: the merged file replaces the old one by a rename, 0600
//     and given to the directory's owner like a credential file, also when
//     the old one was readable by others. All files of an export are staged
//     first, and the old ones are put back if anything later fails.
//   - When it goes: the state ([StateSections]) lists each file with the
//     sections the step wrote and whether it created the file. The post
//     step removes those sections only, and the file when the step created
//     it and nothing else is left; post steps run in reverse order, so the
//     step that created it comes last.
//
// The shared file is untrusted input; its lines are never printed, not even
// in an error, since they may hold a user's secret.
//
// # Secrets
//
// Nothing in this package prints, logs or puts into an error a token, a
// credential or a response body. The OIDC token is masked the moment it
// arrives; exported values are masked by the pipeline before Export runs.
// Masks must be written to stdout, like every other line: the runner drains
// stderr before stdout, so a mask on stdout cannot protect a value that
// reaches stderr first.
package github
