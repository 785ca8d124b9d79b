<?php
// The server's session records: every sess_* file of session.save_path, decoded.
// Answered only to a loopback peer. Reading the files directly never starts a session.
if (!in_array($_SERVER['REMOTE_ADDR'], ['127.0.0.1', '::1'], true)) {
    http_response_code(403);
    return;
}
$dir = ini_get('session.save_path') ?: sys_get_temp_dir();
$out = [];
foreach (glob($dir . '/sess_*') ?: [] as $file) {
    $raw = (string) @file_get_contents($file);
    $out[] = [
        'sid' => substr(basename($file), 5),
        'raw' => $raw,
        'mtime' => filemtime($file),
        'age' => time() - filemtime($file),
    ];
}
header('Content-Type: application/json');
echo json_encode($out);
