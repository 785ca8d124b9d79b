<?php
// The same routes hardened as PHP's manual advises (Session Management Basics / Securing
// Session INI Settings): strict mode, HttpOnly + SameSite=Lax cookie (set by the launcher's
// -d options), session_regenerate_id(true) at login, POST login and logout with a CSRF token
// kept in the session, logout empties the session, deletes the cookie with its own
// parameters and destroys the record, and timestamp-based idle and absolute timeouts
// (the manual: "do not rely on GC"), read from SESSIONLAB_IDLE / SESSIONLAB_ABSOLUTE (seconds).
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'];
$IDLE = (int) (getenv('SESSIONLAB_IDLE') ?: 1800);
$ABSOLUTE = (int) (getenv('SESSIONLAB_ABSOLUTE') ?: 8 * 3600);

if ($path === '/_sessionlab/sessions') {
    require __DIR__ . '/records.php';
    return true;
}

function forget_session(): void {
    $_SESSION = [];
    $p = session_get_cookie_params();
    setcookie(session_name(), '', [
        'expires' => time() - 42000, 'path' => $p['path'], 'domain' => $p['domain'],
        'secure' => $p['secure'], 'httponly' => $p['httponly'], 'samesite' => $p['samesite'],
    ]);
    session_destroy();
}

function csrf_token(): string {
    if (empty($_SESSION['csrf'])) {
        $_SESSION['csrf'] = bin2hex(random_bytes(32));
    }
    return $_SESSION['csrf'];
}

function csrf_ok(): bool {
    return !empty($_SESSION['csrf']) && is_string($_POST['csrf_token'] ?? null)
        && hash_equals($_SESSION['csrf'], $_POST['csrf_token']);
}

function form(string $action, string $fields, string $button): string {
    return '<form method="post" action="' . $action . '">' . $fields
        . '<input type="hidden" name="csrf_token" value="' . csrf_token() . '">'
        . '<button>' . $button . '</button></form>';
}

session_start();
$now = time();
if (isset($_SESSION['name'])
    && ($now - ($_SESSION['seen_at'] ?? 0) > $IDLE || $now - ($_SESSION['login_at'] ?? 0) > $ABSOLUTE)) {
    forget_session();
    session_start();
}
if (isset($_SESSION['name'])) {
    $_SESSION['seen_at'] = $now;
}

if ($path === '/login' && $method === 'GET') {
    echo form('/login', '<input name="user">', 'Log in');
} elseif ($path === '/login' && $method === 'POST') {
    if (!csrf_ok()) { http_response_code(403); echo 'invalid CSRF token'; return; }
    $user = (string) ($_POST['user'] ?? '');
    if ($user === '') { http_response_code(400); echo 'user required'; return; }
    session_regenerate_id(true);
    $_SESSION = ['name' => $user, 'login_at' => $now, 'seen_at' => $now];
    csrf_token();
    echo '<p>Session Set: <a href="/user">View Here</a></p>';
} elseif ($path === '/user' && $method === 'GET') {
    if (isset($_SESSION['name'])) {
        echo htmlspecialchars($_SESSION['name']) . '<br />' . form('/logout', '', 'Logout');
    } else {
        echo 'user logged out!';
    }
} elseif ($path === '/logout' && $method === 'POST') {
    if (!csrf_ok()) { http_response_code(403); echo 'invalid CSRF token'; return; }
    forget_session();
    echo '<br />logged out!<br /><a href="/user">Check Session</a>';
} else {
    http_response_code(in_array($path, ['/login', '/user', '/logout'], true) ? 405 : 404);
    echo 'not allowed';
}
