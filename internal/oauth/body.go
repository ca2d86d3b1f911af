package oauth

import (
	"encoding/json"
	"net/http"
)

// writeBody writes v as JSON with the headers already set.
func writeBody(w http.ResponseWriter, v any) {
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(v)
}
