// response_mode=form_post: submit the hidden form as soon as the page loads (no inline script,
// so the Content-Security-Policy can forbid inline code).
document.getElementById("form-post").submit();
