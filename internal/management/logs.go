package management

import (
	"net/http"
)

func (s *Server) logRoutes() {
	s.handle("GET /api/v2/logs", "read:logs", s.listLogs)
	s.handle("GET /api/v2/logs/{id}", "read:logs", s.getLog)
}

// listLogs is GET /api/v2/logs: q in Auth0's log search syntax over the
// fields of adapters.LogSearch (date ranges such as
// date:[2024-01-01 TO 2024-02-01] included; any other field is a 400
// invalid_query_string), sort over adapters.LogSort (date:-1 by default),
// and both paging styles.
func (s *Server) listLogs(r *http.Request, c *call) (int, any, *apiError) {
	p, e := listParams(r)
	if e != nil {
		return 0, nil, e
	}
	l, err := s.Data.Logs.List(r.Context(), c.tenantID(), p)
	if err != nil {
		return 0, nil, listErr(s, r, err, "log")
	}
	return http.StatusOK, page("logs", p, l), nil
}

func (s *Server) getLog(r *http.Request, c *call) (int, any, *apiError) {
	l, err := s.Data.Logs.Get(r.Context(), c.tenantID(), r.PathValue("id"))
	if err != nil {
		return 0, nil, s.fail(r, err, "log")
	}
	return http.StatusOK, l, nil
}
