package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// netexec serves what the e2e tests of lifecycle hooks ask of agnhost's
// netexec mode: every request is logged to stdout as "<METHOD> <URI>"
// (the tests look for `GET /echo?msg=poststart` in the container's log);
// /echo?msg=M answers M, /hostname the host name, /clientip the caller's
// address, /healthz ok. --udp-port echoes datagrams; with a certificate
// and key the HTTP port serves TLS.
func netexec(args []string) error {
	fs := flag.NewFlagSet("netexec", flag.ContinueOnError)
	httpPort := fs.Int("http-port", 8080, "HTTP port")
	udpPort := fs.Int("udp-port", 8081, "UDP echo port; -1: none")
	cert := fs.String("tls-cert-file", "", "serve TLS with this certificate")
	key := fs.String("tls-private-key-file", "", "and this key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return errors.New("--tls-cert-file and --tls-private-key-file go together")
	}
	if *udpPort > 0 {
		pc, err := net.ListenPacket("udp", ":"+strconv.Itoa(*udpPort))
		if err != nil {
			return err
		}
		go echoUDP(pc)
	}
	srv := &http.Server{Addr: ":" + strconv.Itoa(*httpPort), Handler: netexecHandler(os.Stdout), ReadHeaderTimeout: 10 * time.Second}
	if *cert != "" {
		return srv.ListenAndServeTLS(*cert, *key)
	}
	return srv.ListenAndServe()
}

// netexecHandler logs each request to log and answers it.
func netexecHandler(log io.Writer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL.Query().Get("msg"))
	})
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, _ *http.Request) {
		h, _ := os.Hostname()
		fmt.Fprint(w, h)
	})
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.RemoteAddr)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "ok")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(log, "%s %s\n", r.Method, r.URL.RequestURI())
		mux.ServeHTTP(w, r)
	})
}

func echoUDP(pc net.PacketConn) {
	buf := make([]byte, 64<<10)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(buf[:n], addr)
	}
}

// curl is the little of curl(1) the e2e tests' exec hooks use (`curl
// http://IP:8080/echo?msg=poststart`): GET each URL and print the body.
// Like curl without -f, any HTTP answer is success; a URL that cannot be
// fetched exits 7 ("failed to connect").
func curl(args []string) int {
	client := &http.Client{Timeout: 30 * time.Second}
	code := 0
	for _, u := range args {
		if len(u) > 0 && u[0] == '-' {
			continue // options are accepted and ignored
		}
		res, err := client.Get(u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "curl: %v\n", err)
			code = 7
			continue
		}
		_, _ = io.Copy(os.Stdout, res.Body)
		res.Body.Close()
	}
	return code
}
