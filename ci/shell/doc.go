// Package shell is the CLI edge of oidc-exchange: it runs outside any CI
// platform, or inside one from a plain run: step, where the credentials
// travel on standard output instead of through the platform's file
// commands.
//
// [Renderer] implements [exchange.Exporter] and prints credentials in one
// of four [Format]s:
//
//   - [FormatEnv]: POSIX shell "export NAME='value'" lines, for
//     eval "$(oidc-exchange … --format env)";
//   - [FormatJSON]: one JSON object with env, outputs, expiration and
//     provider, for scripts and jq;
//   - [FormatCredentialProcess]: the JSON an AWS SDK expects from a
//     credential_process command;
//   - [FormatExternalAccount]: the content of the single credential file the
//     provider issued (a GCP external_account configuration) and nothing
//     else, for oidc-exchange gcp … --format external-account > creds.json.
//
// [ProfileWriter] implements [exchange.Exporter] for AWS profiles
// ([exchange.Credentials].Sections): instead of printing, it merges them
// into the shared config and credentials files (AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials)
// with internal/sharedini, all files or none, and says on Notices which
// profile went where.
//
// Credential files ([exchange.Credentials].Files) appear only in
// [FormatExternalAccount]; env and json print variables and outputs alone,
// so a provider's files never mix with a shell's eval input or a JSON
// consumer's schema. The CLI writes no credential file itself (only
// profiles, into the files the AWS tools share): where the file goes is
// the caller's redirection, and so is its mode — run umask 077 first, or
// write into a directory only you can read, because an external_account
// file that refreshes itself from a URL holds a bearer token. Inside GitHub
// Actions prefer the container action, which places the file in the runner
// temp directory with mode 0600 and removes it in its post step.
//
// Values are printed in clear text: standard output is the user's own
// terminal or pipe, and printing them is the point. Everything else the
// CLI says must therefore go to standard error. Inside a CI job, capture
// the output (eval "$(…)") rather than letting it reach the log, which
// masks only what was registered with the platform.
//
// [FileTokenSource] and [ReaderTokenSource] implement
// [exchange.TokenSource] for a token that was obtained elsewhere: a file
// (a Kubernetes projected service-account token, a token a previous step
// saved) or standard input. They ignore the audience they are asked for,
// because the token's audience is whatever its issuer put in it; the
// verifier checks aud against the configured audience before any provider
// sees the token. [FileTokenSource] also implements
// [exchange.CredentialSourcer] with the file's absolute path (its
// SharedPath, when other processes see the file elsewhere), so a
// credential file can re-read a rotated token by itself;
// [ReaderTokenSource] does not, since standard input cannot be read twice.
// The action's web-identity-token-file, the CLI's --token-file, is read by
// a [FileTokenSource] too, with the GitHub edge as its masker.
package shell
