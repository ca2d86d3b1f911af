package routing

import (
	"net/http"
	"strings"
)

// GeoResolver locates the client of a request. Implement it for IP lookups
// (a MaxMind database, a cloud's geo service); any value may be empty when
// unknown. Country is an ISO 3166-1 alpha-2 code, continent one of AF, AN,
// AS, EU, NA, OC, SA; region is a subdivision ("CA", or "US-CA") or a
// provider region ("WNAM"). A missing continent is filled in from the country.
type GeoResolver interface {
	Locate(r *http.Request) (country, continent, region string)
}

// GeoResolverFunc adapts a function to GeoResolver.
type GeoResolverFunc func(r *http.Request) (country, continent, region string)

// Locate calls f.
func (f GeoResolverFunc) Locate(r *http.Request) (country, continent, region string) { return f(r) }

// HeaderResolver reads the client's location from headers set by a CDN or
// load balancer in front of the proxy (Cloudflare's CF-IPCountry,
// CloudFront-Viewer-Country, ...). It is the default GeoResolver, built from
// Config.Geo.
type HeaderResolver struct {
	// CountryHeaders, ContinentHeaders and RegionHeaders are tried in order;
	// the first non-empty value wins.
	CountryHeaders, ContinentHeaders, RegionHeaders []string
}

// NewHeaderResolver returns the HeaderResolver for g, with the default
// header lists where g leaves them nil.
func NewHeaderResolver(g GeoConfig) *HeaderResolver {
	h := &HeaderResolver{CountryHeaders: g.CountryHeaders, ContinentHeaders: g.ContinentHeaders, RegionHeaders: g.RegionHeaders}
	if h.CountryHeaders == nil {
		h.CountryHeaders = DefaultCountryHeaders
	}
	if h.ContinentHeaders == nil {
		h.ContinentHeaders = DefaultContinentHeaders
	}
	if h.RegionHeaders == nil {
		h.RegionHeaders = DefaultRegionHeaders
	}
	return h
}

// Locate returns the first non-empty value of each header list. Cloudflare's
// "XX" (unknown) and "T1" (Tor) countries count as unknown.
func (h *HeaderResolver) Locate(r *http.Request) (country, continent, region string) {
	country = strings.ToUpper(firstHeader(r, h.CountryHeaders))
	if country == "XX" || country == "T1" {
		country = ""
	}
	continent = strings.ToUpper(firstHeader(r, h.ContinentHeaders))
	region = strings.ToUpper(firstHeader(r, h.RegionHeaders))
	return country, continent, region
}

func firstHeader(r *http.Request, names []string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// ContinentOf returns the continent code (AF, AN, AS, EU, NA, OC or SA) of an
// ISO 3166-1 alpha-2 country code, following GeoNames, or "" when unknown.
func ContinentOf(country string) string {
	return countryContinent[strings.ToUpper(country)]
}

var countryContinent = func() map[string]string {
	table := map[string]string{
		"AF": "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
		"AN": "AQ BV GS HM TF",
		"AS": "AF AM AZ BH BD BT BN KH CN GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CC CX",
		"EU": "AX AL AD AT BY BE BA BG HR CY CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA",
		"NA": "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF PM VC SX TT TC US VI",
		"OC": "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV UM VU WF",
		"SA": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
	}
	m := make(map[string]string, 256)
	for cont, list := range table {
		for _, c := range strings.Fields(list) {
			m[c] = cont
		}
	}
	return m
}()
