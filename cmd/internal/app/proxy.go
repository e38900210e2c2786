package app

import (
	"net/url"
	"strings"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// proxyEnv are the variables that name a proxy when http-proxy is empty,
// each for its own scheme, lower case first as net/http reads them: the
// default stays what it was before the inputs existed.
var proxyEnv = []struct {
	names []string
	field func(p *httpclient.Proxy) **url.URL
}{
	{[]string{"https_proxy", "HTTPS_PROXY"}, func(p *httpclient.Proxy) **url.URL { return &p.HTTPS }},
	{[]string{"http_proxy", "HTTP_PROXY"}, func(p *httpclient.Proxy) **url.URL { return &p.HTTP }},
}

// setProxy is the setter of http-proxy: one proxy for every request, as
// configure-aws-credentials uses it for both.
func setProxy(c *common, v string) error {
	u, err := httpclient.ParseProxyURL(v)
	c.proxy.HTTPS, c.proxy.HTTP = u, u
	return err
}

// resolveProxy fills the proxies http-proxy left empty from the
// environment, validated like the input; no-proxy's own Env already fell
// back to NO_PROXY. A bad variable is an input error under its name.
func (c *common) resolveProxy(getenv func(string) string) error {
	if c.proxy.HTTPS != nil {
		return nil
	}
	for _, pe := range proxyEnv {
		for _, name := range pe.names {
			v := strings.TrimSpace(getenv(name))
			if v == "" {
				continue
			}
			u, err := httpclient.ParseProxyURL(v)
			if err != nil {
				return exchange.InputError("$"+name, "%v", err)
			}
			*pe.field(&c.proxy) = u
			break
		}
	}
	return nil
}

// proxySecrets are what the proxy settings hold that must be masked: a
// password as decoded and as written, and each value that holds one as
// written. Values that do not parse are masked whole when they may hold a
// password, since their error is printed.
func proxySecrets(getenv func(string) string) []string {
	var raw []string
	if s := only(commonInputs(), "http-proxy"); len(s) == 1 {
		if v, _, _ := input.Value(&s[0].Spec, actionSource(getenv), getenv); v != "" {
			raw = append(raw, v)
		}
	}
	for _, pe := range proxyEnv {
		for _, name := range pe.names {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				raw = append(raw, v)
			}
		}
	}
	var out []string
	for _, v := range raw {
		u, err := httpclient.ParseProxyURL(v)
		switch {
		case err != nil:
			if strings.Contains(v, "@") {
				out = append(out, v)
			}
		case u.User != nil:
			out = append(out, v)
			if pw, ok := u.User.Password(); ok && strings.TrimSpace(pw) != "" {
				out = append(out, pw)
				if _, enc, _ := strings.Cut(u.User.String(), ":"); enc != pw {
					out = append(out, enc)
				}
			}
		}
	}
	return out
}

// actionProxy reads the proxy settings alone: the client that carries them
// exists before the other inputs are read. A bad value gives no proxy;
// readActionConfig reports it with every other bad input, before any
// request is made.
func actionProxy(getenv func(string) string) *httpclient.Proxy {
	var c common
	if input.Apply(&c, only(commonInputs(), "http-proxy", "no-proxy"), actionSource(getenv), getenv) != nil || c.resolveProxy(getenv) != nil {
		return &httpclient.Proxy{}
	}
	return &c.proxy
}
