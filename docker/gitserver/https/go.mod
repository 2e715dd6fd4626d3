module airkube.local/git-https

go 1.26
