// Package ingest holds what every receiver shares. Receivers live in its
// subpackages, one per protocol.
package ingest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/gzip"
)

// ReadBody reads a request body, gunzipping it when Content-Encoding says
// gzip, and refuses more than limit bytes after decompression (0: no
// limit). On error it returns the HTTP status to answer with: 400 for a
// broken body, 413 over the limit, 415 for an unknown encoding.
func ReadBody(req *http.Request, limit int64) ([]byte, int, error) {
	var src io.Reader = req.Body
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported Content-Encoding %q: send the body uncompressed or gzip-compressed", enc)
	}
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(src); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %v", err)
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds limits.max_request_body_bytes (%d bytes after decompression): send smaller batches", limit)
	}
	return buf.Bytes(), 0, nil
}
