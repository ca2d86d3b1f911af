package login

import (
	"strings"
)

// texts holds the page texts per language; English is the fallback. Keys
// are shared by every language.
var texts = map[string]map[string]string{
	"en": {
		"login_title": "Log in", "email": "Email address", "password": "Password", "continue": "Continue",
		"login": "Log in", "signup": "Sign up", "signup_title": "Create your account", "no_account": "Don't have an account?",
		"have_account": "Already have an account?", "forgot": "Forgot password?", "edit": "Edit",
		"wrong_credentials": "Wrong email or password.", "invalid_email": "Enter a valid email address.",
		"blocked_ip":   "Your account has been blocked after multiple consecutive login attempts. Try again later or reset your password.",
		"user_blocked": "This account is blocked.", "user_exists": "Something went wrong: try logging in, or reset your password.",
		"signup_disabled": "Sign-ups are disabled for this application.", "reset_title": "Reset your password",
		"reset_intro":  "Enter your email address and we will send you a link to reset your password.",
		"reset_sent":   "If an account exists for that email address, we have sent a link to reset the password.",
		"new_password": "New password", "confirm_password": "Confirm new password", "reset": "Reset password",
		"mismatch": "The passwords do not match.", "reset_done": "Your password has been changed. You can now log in with it.",
		"ticket_invalid": "This link is invalid or has expired.", "verified": "Your email address has been verified.",
		"error_title": "Something went wrong", "back": "Back to log in", "expired": "This login has expired. Go back to the application and try again.",
		"csrf":          "The form has expired or was not sent from this page. Go back and try again.",
		"password_hint": "At least %d characters.", "unavailable": "The service is temporarily unavailable. Please try again in a moment.",
	},
	"es": {
		"login_title": "Iniciar sesión", "email": "Correo electrónico", "password": "Contraseña", "continue": "Continuar",
		"login": "Iniciar sesión", "signup": "Registrarse", "signup_title": "Crea tu cuenta", "no_account": "¿No tienes una cuenta?",
		"have_account": "¿Ya tienes una cuenta?", "forgot": "¿Olvidaste tu contraseña?", "edit": "Editar",
		"wrong_credentials": "Correo o contraseña incorrectos.", "invalid_email": "Introduce un correo electrónico válido.",
		"blocked_ip":   "Tu cuenta se ha bloqueado tras varios intentos fallidos. Inténtalo más tarde o restablece tu contraseña.",
		"user_blocked": "Esta cuenta está bloqueada.", "user_exists": "Algo salió mal: intenta iniciar sesión o restablece tu contraseña.",
		"signup_disabled": "El registro está desactivado para esta aplicación.", "reset_title": "Restablece tu contraseña",
		"reset_intro":  "Introduce tu correo y te enviaremos un enlace para restablecer la contraseña.",
		"reset_sent":   "Si existe una cuenta con ese correo, te hemos enviado un enlace para restablecer la contraseña.",
		"new_password": "Nueva contraseña", "confirm_password": "Confirma la nueva contraseña", "reset": "Restablecer",
		"mismatch": "Las contraseñas no coinciden.", "reset_done": "Tu contraseña ha cambiado. Ya puedes iniciar sesión con ella.",
		"ticket_invalid": "Este enlace no es válido o ha caducado.", "verified": "Tu correo electrónico ha sido verificado.",
		"error_title": "Algo salió mal", "back": "Volver a iniciar sesión", "expired": "Este inicio de sesión ha caducado. Vuelve a la aplicación e inténtalo de nuevo.",
		"csrf":          "El formulario ha caducado o no se envió desde esta página. Vuelve e inténtalo de nuevo.",
		"password_hint": "Al menos %d caracteres.", "unavailable": "El servicio no está disponible temporalmente. Inténtalo de nuevo en un momento.",
	},
}

// language picks the first supported language of a ui_locales value (or an
// Accept-Language header), defaulting to English.
func language(prefs ...string) string {
	for _, p := range prefs {
		for _, tag := range strings.FieldsFunc(p, func(r rune) bool { return r == ' ' || r == ',' }) {
			tag, _, _ = strings.Cut(tag, ";")
			base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
			if _, ok := texts[base]; ok {
				return base
			}
		}
	}
	return "en"
}
