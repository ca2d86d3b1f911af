package management

// routes registers every Management API route with the scope it needs
// (https://auth0.com/docs/api/management/v2). Each resource lives in its own
// file.
func (s *Server) routes() {
	s.tenantRoutes()
	s.clientRoutes()
	s.userRoutes()
	s.connectionRoutes()
	s.resourceServerRoutes()
	s.clientGrantRoutes()
	s.roleRoutes()
	s.keyRoutes()
	s.logRoutes()
	s.sessionRoutes()
}
