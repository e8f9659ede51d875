package api

import (
	"encoding/json"
	"errors"

	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// MaxBodyBytes is the largest request body a JSON route accepts.
const MaxBodyBytes = 1 << 20

// HandlerFunc is an HTTP handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one method+pattern and its handler, as registered on the mux
// (e.g. "GET /api/v1/webhooks/{id}").
type Route struct {
	Pattern string
	Handler HandlerFunc
}

// Server serves the HTTP API. Routes come from the resources passed to New.
type Server struct {
	// Authorize, when set, runs before every route under /api/ except the
	// websocket (which checks at its upgrade); an error answers 401.
	Authorize func(*http.Request) error

	mux    *http.ServeMux
	logger *slog.Logger
}

// Resource is anything that contributes routes (one file per resource).
type Resource interface {
	Routes() []Route
}

// New returns a Server serving the given resources. Extra plain handlers
// (websocket, metrics) are registered with Handle.
func New(logger *slog.Logger, resources ...Resource) *Server {
	s := &Server{mux: http.NewServeMux(), logger: logger}
	for _, res := range resources {
		for _, rt := range res.Routes() {
			s.mux.Handle(rt.Pattern, s.wrap(rt.Handler))
		}
	}
	s.mux.Handle("/api/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return dvr.Errorf(dvr.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path)
	}))
	return s
}

// Handle registers a plain http.Handler, for routes that manage their own
// responses (websocket upgrades, Prometheus).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Authorize != nil && strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/v1/ws" {
		if err := s.Authorize(r); err != nil {
			writeError(w, r, s.logger, err)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) wrap(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.logger, err)
		}
	})
}

// statusOf maps an error code to its HTTP status.
func statusOf(code string) int {
	switch code {
	case dvr.EINVALID:
		return http.StatusBadRequest
	case dvr.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case dvr.ENOTFOUND:
		return http.StatusNotFound
	case dvr.ECONFLICT:
		return http.StatusConflict
	case dvr.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case dvr.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := dvr.ErrorCode(err)
	if code == dvr.EINTERNAL {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = dvr.ErrorMessage(err)
	writeJSON(w, statusOf(code), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteJSON writes v as JSON with the given status; for handlers.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, v)
	return nil
}

// DecodeJSON decodes the request body into v. It rejects bodies over
// MaxBodyBytes, unknown fields, trailing data and malformed JSON with an
// EINVALID or ETOOLARGE error that says exactly what was wrong.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return dvr.Errorf(dvr.EINVALID, "content type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return dvr.Errorf(dvr.EINVALID, "body must hold a single JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return dvr.Errorf(dvr.ETOOLARGE, "body is larger than %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return dvr.Errorf(dvr.EINVALID, "body is empty; expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return dvr.Errorf(dvr.EINVALID, "body is not valid JSON: unexpected end")
	case errors.As(err, &syntaxErr):
		return dvr.Errorf(dvr.EINVALID, "body is not valid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		return dvr.Errorf(dvr.EINVALID, "field %q must be %s, got %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return dvr.Errorf(dvr.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return dvr.Errorf(dvr.EINVALID, "body is not valid JSON: %s", err.Error())
	}
}

// PathID parses the {id} path value as a positive integer.
func PathID(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, dvr.Errorf(dvr.EINVALID, "%s must be a positive integer, got %q", name, raw)
	}
	return id, nil
}

// QueryInt parses an optional integer query parameter, returning def when it
// is absent.
func QueryInt(r *http.Request, name string, def int64) (int64, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, dvr.Errorf(dvr.EINVALID, "query parameter %s must be an integer, got %q", name, raw)
	}
	return v, nil
}

// List is the JSON shape of list responses.
type List[T any] struct {
	Items []T `json:"items"`
}

// NewList wraps items, turning nil into an empty list so clients see [].
func NewList[T any](items []T) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items}
}
