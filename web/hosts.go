package web

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
)

// allowedHosts normalises a list of allowed hosts (hostName each); nil
// when it allows every host: empty, or with an entry "*".
func allowedHosts(list []string) []string {
	var hosts []string
	for _, h := range list {
		h = strings.TrimSpace(h)
		if h == "*" {
			return nil
		}
		if h = hostName(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// hostName is the host of a Host header or an allowed-hosts entry, as
// compared: without its port and the brackets of an IPv6 address, lower
// case, without a final dot ("LocalHost.:8080" is "localhost").
func hostName(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// checkHost refuses, with 421 Misdirected Request, a request whose Host is
// none of hosts: a page of another site whose name was made to resolve to
// this server's address (DNS rebinding) reaches it under that name. A Host
// that is an IP address is always accepted, as is a missing one: a
// rebinding attack always comes with a name.
func checkHost(hosts []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := hostName(r.Host)
			if h == "" || net.ParseIP(h) != nil || slices.Contains(hosts, h) {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, fmt.Sprintf("this server does not answer to the host name %q (a guard against DNS rebinding); "+
				"its operator can allow it with -allowed-hosts", clip(h, 64)), http.StatusMisdirectedRequest)
		})
	}
}
