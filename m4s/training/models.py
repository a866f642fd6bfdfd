"""Staff training: courses, question banks, quizzes, assignments per role, attempts."""
