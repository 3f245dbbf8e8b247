from support.fixtures import other_school, other_teacher, school, server, teacher

__all__ = ["other_school", "other_teacher", "school", "server", "teacher"]
