<?php
// The seed's three routes in the classic PHP session tutorial style, as a `php -S` router:
// session_start(); $_SESSION['name'] = ...; session_destroy(). Nothing else: PHP's own
// session settings decide the rest. The name is echoed unescaped, as the seed does.
// GET /_sessionlab/sessions (loopback only) lists the files of session.save_path as JSON.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/_sessionlab/sessions') {
    require __DIR__ . '/records.php';
    return true;
}
if (preg_match('#^/user/([^/]+)$#', $path, $m)) {
    session_start();
    $_SESSION['name'] = urldecode($m[1]);
    echo '<p>Session Set: <a href="/user">View Here</a></p>';
} elseif ($path === '/user') {
    session_start();
    if (isset($_SESSION['name'])) {
        echo $_SESSION['name'] . '<br /><a href="/logout">Logout</a>';
    } else {
        echo 'user logged out!';
    }
} elseif ($path === '/logout') {
    session_start();
    session_destroy();
    echo '<br />logged out!<br /><a href="/user">Check Session</a>';
} else {
    http_response_code(404);
    echo 'not found';
}
