// Command releasepin writes what makes a commit a release: the image digest
// in action.yml and the binaries' checksums in native/release.json.
//
//	go run -C tools ./releasepin -root .. -version v1.2.3 -commit <sha> \
//	    -sums ../dist/SHA256SUMS [-image-digest sha256:<index digest>] [-partial]
//
// release.yml runs it after the image is pushed, and commits the result on
// top of the tagged commit; scripts/release-dry-run runs it on a copy and
// lints the result. Users of the container action then pull the image by
// the digest the release commit names, and users of the native action run
// a binary only if its SHA-256 matches the sum committed beside the
// action, never a sum fetched from where the binary came from.
//
// Everything is validated before anything is written: the version, the
// commit, the digest, every line of SHA256SUMS and every asset name, and
// that action.yml has exactly one runs.image line to replace. -partial
// admits a SHA256SUMS without every platform, for CI's smoke test of the
// native action, which builds only the runner's own binary.
package main
