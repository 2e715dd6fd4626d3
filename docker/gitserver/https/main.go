// Command git-https serves the bare repositories under GIT_PROJECT_ROOT over HTTPS through
// git's own smart-HTTP program, git http-backend, for the project's development git server.
//
// Every request needs HTTP basic auth: the user named by GIT_USERNAME and the password held in
// the file GIT_PASSWORD_FILE, read on each request so a rotated Secret takes effect at once.
package main

import (
	"crypto/subtle"
	"log"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
)

func required(name string) string {
	value := os.Getenv(name)
	if value == "" {
		log.Fatalf("set %s", name)
	}
	return value
}

func sameSecret(given, wanted string) bool {
	return subtle.ConstantTimeCompare([]byte(given), []byte(wanted)) == 1
}

func main() {
	root := required("GIT_PROJECT_ROOT")
	username := required("GIT_USERNAME")
	passwordFile := required("GIT_PASSWORD_FILE")
	certFile := required("TLS_CERT_FILE")
	keyFile := required("TLS_KEY_FILE")
	address := os.Getenv("LISTEN_ADDRESS")
	if address == "" {
		address = ":8443"
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		wanted, err := os.ReadFile(passwordFile)
		if err != nil {
			log.Printf("cannot read the password file: %v", err)
			http.Error(w, "server misconfigured", http.StatusInternalServerError)
			return
		}
		if !ok || !sameSecret(user, username) || !sameSecret(password, strings.TrimRight(string(wanted), "\r\n")) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend := &cgi.Handler{
			Path: "/usr/lib/git-core/git-http-backend",
			// http-backend takes pushes only from a user the server authenticated.
			Env:        []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user},
			InheritEnv: []string{"PATH", "HOME"},
		}
		backend.ServeHTTP(w, r)
	})
	log.Printf("serving %s over HTTPS on %s", root, address)
	log.Fatal(http.ListenAndServeTLS(address, certFile, keyFile, handler))
}
