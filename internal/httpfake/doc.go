// Package httpfake holds the scaffolding the in-process fake cloud
// endpoints share: a script of queued failures and a latency ([Script]),
// the loopback-only guard ([Loopback]), the pacing of an answer to that
// latency ([Pace]), and small helpers for the requests they record
// ([Issued], [CloneValues]); and a recording forward [Proxy], which the
// tests of internal/httpclient and of the whole program put in front of
// those fakes.
//
// It exists because the fakes belong to different providers
// (providers/aws/stsfake, providers/gcp/gcpfake,
// providers/broker/brokerfake), and providers never depend on each other,
// so one fake cannot borrow from another. Packages under internal/ are
// leaves that anyone may import; this one imports only the standard
// library.
//
// It holds only what the fakes do alike. What a failure looks like, how a
// request is recorded and how an answer is written stay in each fake.
package httpfake
